//! Property tests: both designs against a sequential reference model.

mod sequential;
