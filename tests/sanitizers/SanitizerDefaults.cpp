// Run-time options of the sanitizers in an MCPB_SANITIZE build (tests/sanitizers/Sanitizers.cmake).
// The runtimes call these hooks at start-up; the environment (ASAN_OPTIONS, ...) still wins.

extern "C" {

// detect_stack_use_after_return: catches use of a returned frame (lambdas capturing locals).
// check_initialization_order: static initialisers that read another file's statics.
const char *__asan_default_options()
{
    return "detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:"
           "strict_init_order=1:halt_on_error=1";
}

const char *__ubsan_default_options()
{
    return "print_stacktrace=1:halt_on_error=1";
}
}
