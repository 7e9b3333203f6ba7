"""`homewarden analyze` with the store on the PostgreSQL server, through nothing but a database URL."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from conftest import init_home_key, media_file
from homewarden.cli import main
from services import fresh_postgres_database

pytestmark = pytest.mark.postgres


def test_events_of_a_real_video_land_in_postgresql(tmp_path: Path) -> None:
    video = media_file("video/face-demographics-walking.gif")
    with fresh_postgres_database() as url:
        config = tmp_path / "homewarden.yaml"
        config.write_text(f"storage:\n  folder: {tmp_path / 'data'}\n  database_url: {url}\n", encoding="utf-8")
        init_home_key(tmp_path)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["analyze", str(video), "--json", "--quiet", "--config", str(config)]) == 0
        printed = [json.loads(line) for line in out.getvalue().splitlines()]
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                rows = connection.execute(text("select id, label, box_time from event order by start")).all()
                clips = connection.execute(text("select count(*) from clip")).scalar_one()
        finally:
            engine.dispose()
    assert printed
    assert sorted((row.id, row.label) for row in rows) == sorted((e["id"], e["label"]) for e in printed)
    # The moment of each event's box and snapshot is stored as printed (seconds into the file).
    assert {row.id: round(row.box_time, 3) for row in rows} == {e["id"]: e["box_time"] for e in printed}
    assert all(e["box_time"] is not None for e in printed)
    assert clips == sum(len(e["clips"]) for e in printed)
    assert not (tmp_path / "data" / "homewarden.db").exists()
