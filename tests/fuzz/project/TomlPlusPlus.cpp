// toml++'s implementation for the fuzz targets, built the way the Debian library the broker links
// is: without toml++'s internal assertions, some of which fail on malformed input that the library
// otherwise reports as a parse error (upstream marzer/tomlplusplus#294, e.g. "[ \x04"). And
// without UBSan (see CMakeLists.txt).
#define TOML_ASSERT(expr) static_assert(true)
#define TOML_IMPLEMENTATION
#include <toml++/toml.h>
