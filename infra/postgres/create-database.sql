-- Creates the role and the database for the Haven collector (PostgreSQL 15).
-- Run as the superuser:  sudo -u postgres psql -v ON_ERROR_STOP=1 < create-database.sql
-- Replace CHANGE-ME with a long random password (e.g. `openssl rand -hex 24`) and put the same
-- password in DATABASE_URL in /etc/haven/collector.env. Do not keep the edited copy of this file.
-- The collector creates its tables itself (migrations at start); it needs no other privileges.

CREATE ROLE haven LOGIN PASSWORD 'CHANGE-ME';

CREATE DATABASE haven OWNER haven ENCODING 'UTF8' TEMPLATE template0;

-- Only haven (and superusers) may connect to it.
REVOKE ALL ON DATABASE haven FROM PUBLIC;
