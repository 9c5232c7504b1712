"""API-suite fixtures: the fixed corpus on either engine, served on a real socket."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from apikit import API, Corpus, populate, served

from tekton_results_tui.store.history import History


class Client:
    """requests against one served history, paths relative to the v1alpha2 parents root."""

    def __init__(self, base: str, corpus: Corpus) -> None:
        self.base = base
        self.corpus = corpus
        self.session = requests.Session()

    def get(self, path: str, **params: str | int) -> requests.Response:
        return self.session.get(self.base + API + path, params=params or None, timeout=30)

    def json(self, path: str, **params: str | int) -> dict:
        r = self.get(path, **params)
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()


@pytest.fixture
def corpus(history: History) -> Corpus:
    return populate(history)


@pytest.fixture
def api(history: History, corpus: Corpus) -> Iterator[Client]:
    with served() as url:
        c = Client(url, corpus)
        yield c
        c.session.close()
