//! Property tests: both designs against a sequential reference model, and
//! concurrent histories checked for linearizability against it.

mod linearizable;
mod material;
mod reference;
mod sequential;
