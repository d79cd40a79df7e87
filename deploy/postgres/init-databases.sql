-- One database per service that keeps state: no service reads another's tables
-- (ARCHITECTURE.md). The portal has none: its signed session cookie is all it keeps.
-- The postgres image runs this once, on the first start of an empty data volume,
-- connected as POSTGRES_USER (danvan), which therefore owns all four databases.
-- For separate login roles per service, see deploy/README.md ("PostgreSQL").
-- template0 with UTF8 keeps Vietnamese text intact whatever the server's default locale.
CREATE DATABASE danvan_registry TEMPLATE template0 ENCODING 'UTF8';
CREATE DATABASE danvan_intake TEMPLATE template0 ENCODING 'UTF8';
CREATE DATABASE danvan_reminders TEMPLATE template0 ENCODING 'UTF8';
CREATE DATABASE danvan_consolidation TEMPLATE template0 ENCODING 'UTF8';
