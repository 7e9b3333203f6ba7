"""Build the cloud's FastAPI app: stateless, so any number of processes can serve behind a load balancer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from homewarden import __version__
from homewarden.cloud.api import (
    accounts,
    hubs,
    objects,
    pages,
    review_hubs,
    review_models,
    review_pages,
    review_workbench,
)
from homewarden.cloud.api.deps import check_every_route_has_a_policy
from homewarden.cloud.api.errors import add_error_handlers
from homewarden.cloud.api.limits import BodyLimit
from homewarden.cloud.services import CloudServices
from homewarden.cloud.tasks import PeriodicDuties, producer_tasks


def create_cloud_app(services: CloudServices) -> FastAPI:
    """Return the app serving ``services``; with tasks in-process it also runs the periodic duties."""
    duties = PeriodicDuties(services) if services.config.tasks.in_process else None
    if not services.config.tasks.in_process:
        tasks = producer_tasks(services)
        services.schedule_deletion = tasks.schedule_deletion
        services.schedule_screening = tasks.schedule_screening
        services.workbench.schedule_watermark = tasks.schedule_watermark
        services.workbench.schedule_reading = tasks.schedule_reading

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if duties is not None:
            duties.start()
        try:
            yield
        finally:
            if duties is not None:
                duties.stop()

    app = FastAPI(
        title="Homewarden Cloud",
        version=__version__,
        description="Off-site copies of sealed objects for many homes; the cloud cannot read them.",
        lifespan=lifespan,
    )
    app.state.services = services
    app.add_middleware(BodyLimit, limits=services.config.limits)
    add_error_handlers(app)
    app.include_router(accounts.router)
    app.include_router(hubs.router)
    app.include_router(objects.router)
    app.include_router(review_hubs.router)
    app.include_router(review_models.router)
    app.include_router(review_workbench.router)
    app.include_router(pages.router)
    app.include_router(review_pages.router)
    check_every_route_has_a_policy(app)
    return app
