-- One database per service: no service reads another's tables (ARCHITECTURE.md). The
-- portal's holds only its sessions; its readiness check, like every service's, needs one.
-- The postgres image runs this once, on the first start of an empty data volume,
-- connected as POSTGRES_USER (danvan), which therefore owns all five databases.
-- For separate login roles per service, see deploy/README.md ("PostgreSQL").
-- template0 with UTF8 keeps Vietnamese text intact whatever the server's default locale.
CREATE DATABASE danvan_registry TEMPLATE template0 ENCODING 'UTF8';
CREATE DATABASE danvan_intake TEMPLATE template0 ENCODING 'UTF8';
CREATE DATABASE danvan_reminders TEMPLATE template0 ENCODING 'UTF8';
CREATE DATABASE danvan_consolidation TEMPLATE template0 ENCODING 'UTF8';
CREATE DATABASE danvan_portal TEMPLATE template0 ENCODING 'UTF8';
