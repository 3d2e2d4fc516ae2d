//! (being written: webhook address)
