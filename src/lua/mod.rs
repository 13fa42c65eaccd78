//! (placeholder: the Lua host)
