# Run once by the postgres image when it creates the primary's data folder (/docker-entrypoint-initdb.d): let the
# standby (compose.yaml, postgres-replica) connect for streaming replication. The image's own pg_hba.conf line
# ("host all all all") admits no replication connection.
echo "host replication owner all scram-sha-256" >> "$PGDATA/pg_hba.conf"
