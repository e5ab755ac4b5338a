# MCPB_SANITIZE: AddressSanitizer (with LeakSanitizer) and UndefinedBehaviorSanitizer on every
# target of ours, for the test preset. Any report ends the process with a failure, so a test
# that triggers one fails. The run-time options are compiled into each executable
# (SanitizerDefaults.cpp), so they hold however a test or binary is started; ASAN_OPTIONS and
# friends in the environment still override them for a single run.
option(MCPB_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)

if(MCPB_SANITIZE)
    add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                        -fno-omit-frame-pointer)
    # GCC names each instrumented global's source file in the binary, path and all, and no
    # prefix map applies to it: moc's and rcc's files would put the build tree's path into the
    # package that tests/package checks. Our data lives in Qt containers, so what global
    # instrumentation would catch (overflowing a global array) is out of reach anyway.
    add_compile_options(--param=asan-globals=0)
    add_link_options(-fsanitize=address,undefined)
    # Created before link_libraries() below, so that it does not link itself.
    add_library(mcpb_sanitizer_defaults OBJECT ${CMAKE_CURRENT_LIST_DIR}/SanitizerDefaults.cpp)
    # Every target made after this line gets the defaults; executables are what need them.
    link_libraries(mcpb_sanitizer_defaults)
endif()
