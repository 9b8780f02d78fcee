-- One database per service: each owns its schema and its Flyway history, as on separate servers.
CREATE DATABASE registry;
CREATE DATABASE trainer;
CREATE DATABASE editor;
CREATE DATABASE merger;
