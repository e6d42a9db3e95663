//! The conductor's integration tests, one binary: a conductor over a fresh database
//! per test (a new SQLite file, or a new schema in the PostgreSQL named by
//! `FERRIC_TEST_POSTGRES_URL`), driven through its API trait.

mod harness;
mod inspection_ports;
mod rpc;
mod two_in_one_process;
