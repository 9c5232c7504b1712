"""`serve`: the read side of the Tekton Results v1alpha2 REST API over the store."""
