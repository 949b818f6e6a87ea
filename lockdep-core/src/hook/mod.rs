//! The hooks that locks, pools and the memory allocator call: the checker's entry points,
//! written once for both builds (their bodies compile to the bare operation without the
//! `enabled` feature).

pub(crate) mod alloc;
pub(crate) mod checked;
pub(crate) mod hold;
pub(crate) mod init_class;
pub(crate) mod lock_map;
pub(crate) mod task;
