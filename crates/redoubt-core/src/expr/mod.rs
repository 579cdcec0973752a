//! Expression languages used in node properties.

pub mod jsonata;
