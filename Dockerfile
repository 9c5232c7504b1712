# The headless watcher as a container (config/ deploys it). Build: docker build -t tekton-results-tui .
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY tekton_results_tui ./tekton_results_tui
# psycopg2-binary and the rest install from wheels: no compiler in the image
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
COPY --from=build /install /usr/local
# a numeric non-root user, so the pod's runAsNonRoot can verify it (config/base/deployment.yaml)
RUN useradd --uid 10001 --user-group --no-create-home --home-dir /tmp --shell /usr/sbin/nologin app
USER 10001:10001
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 HOME=/tmp
EXPOSE 9090
ENTRYPOINT ["tekton-results-tui"]
CMD ["--headless"]
