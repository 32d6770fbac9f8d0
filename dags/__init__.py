"""Dossier's Airflow DAG files and ``airflow.cfg``, shipped as package data so ``dossier airflow`` finds them
installed (``importlib.resources.files("dags")``). Airflow imports the DAG files from this folder, not as a package.
"""
