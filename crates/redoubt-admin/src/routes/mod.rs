//! The admin API routes (owner: admin-API work).
