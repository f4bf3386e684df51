-- Run once by the postgres image on an empty volume: the event broker's database
-- (its table `events` would clash with the tracker store's in the database `hotro`).
CREATE DATABASE hotro_events OWNER hotro;
