"""dossier_handover: on request, the handover report of one client from one manager to another."""

from airflow.sdk import Param, dag, task
from dossier_common import DEFAULT_ARGS, START, run_day


@task
def handover_report(params: dict | None = None) -> int:
    """Refresh the client and write its handover report (once per day and pair); return the report id."""
    from dossier.jobs import handover

    return handover(params["client"], params["from_manager"], params["to_manager"], run_day())


@dag(
    dag_id="dossier_handover",
    schedule=None,
    start_date=START,
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["dossier"],
    params={
        "client": Param(type="string", minLength=1, description="Client id, name, e-mail, domain or phone."),
        "from_manager": Param(type="string", minLength=1, description="Login or e-mail of the current owner."),
        "to_manager": Param(type="string", minLength=1, description="Login or e-mail of the new owner."),
    },
)
def dossier_handover() -> None:
    handover_report()


dossier_handover()
