//! `sandgen learn`: the system call profile of an installed unit, learnt from the running
//! service in place and accumulated over recordings and machines.
//!
//! [`record`] gathers the facts (one recording with the in-kernel recorder); [`profile`] is
//! the pure part: the profile's JSON format, merging, and when it has converged.

pub mod profile;
pub mod record;
