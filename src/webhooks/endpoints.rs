//! (being written: webhook endpoints)
