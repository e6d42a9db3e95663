//! Tests of the engine and validation as a whole: every operator and action, negation,
//! `multiple`, loops, interpolation, secrets, ordering and failures, and validation
//! messages naming the bad condition or action.

mod actions;
mod conditions;
mod engine;
mod fixtures;
mod validation;
