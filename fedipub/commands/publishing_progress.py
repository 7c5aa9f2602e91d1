"""`fedipub publish --wait`: deliver the new activity from this process and show a progress
bar until every inbox has it, or is retrying later, or was given up."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from fedipub.services import Services
from fedipub.store.deliveries import Counts


async def deliver_with_progress(services: Services, activity_id: str) -> Counts:
    # Its own worker: leases keep it from sending what a running server's worker has taken.
    worker = services.delivery_worker()
    counts = await services.store.deliveries.progress(activity_id)
    columns = (
        TextColumn("delivering"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
    )
    # On stderr: stdout's last line is the article's URL, for scripts.
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        task = progress.add_task("", total=counts.total)
        while True:
            attempted = await worker.run_once()
            counts = await services.store.deliveries.progress(activity_id)
            progress.update(
                task,
                completed=counts.delivered + counts.given_up,
                description=f"{counts.retrying} retrying, {counts.given_up} given up",
            )
            if counts.pending == 0 or attempted == 0:
                return counts
