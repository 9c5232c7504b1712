"""The history store: peewee models and the store API. Imports neither textual nor kubernetes."""
