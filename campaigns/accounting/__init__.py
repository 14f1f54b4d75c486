"""PowerMTA accounting records, from the wire to the tables.

Pure stdlib: parsing (parser), outcome classification (classify), rows for COPY (stage).
Django: the import into Postgres (importer, its SQL in import_sql) and the PMTA hosts' webhook (webhook).
"""
