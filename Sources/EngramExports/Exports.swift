// This target only carries the linker version script (exports.map) of libengram.so, so that
// executables linking the engine (the fuzz harnesses) do not inherit it.
