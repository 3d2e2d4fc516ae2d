//! (being written: webhook deliveries)
