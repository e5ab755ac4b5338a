# MCPB_SANITIZE: AddressSanitizer (with LeakSanitizer) and UndefinedBehaviorSanitizer on every
# source we wrote, for the test preset. Any report ends the
# process with a failure, so a test that triggers one fails. The run-time options are compiled
# into each executable (SanitizerDefaults.cpp), so they hold however a test or binary is
# started; ASAN_OPTIONS and friends in the environment still override them for a single run.
option(MCPB_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)

if(MCPB_SANITIZE)
    add_compile_options(-fno-sanitize-recover=all -fno-omit-frame-pointer)
    # Global-variable instrumentation stays off: our data lives in Qt containers, so what it
    # would catch (overflowing a global array) is out of reach anyway, and it names each
    # global's source file in the binary.
    add_compile_options(--param=asan-globals=0)
    add_link_options(-fsanitize=address,undefined)
    # Created before link_libraries() below, so that it does not link itself.
    add_library(mcpb_sanitizer_defaults OBJECT ${CMAKE_CURRENT_LIST_DIR}/SanitizerDefaults.cpp)
    # Every target made after this line gets the defaults; executables are what need them.
    link_libraries(mcpb_sanitizer_defaults)

    # Both sanitizers write the path of the source file into the binary (UBSan for every
    # check, ASan once per file), and GCC 12 applies no prefix map to either. So they
    # instrument the sources we wrote, listed by the targets, not the code moc and rcc generate
    # in the build tree (added to the targets only at generation time, after this runs): the
    # package that tests/package checks must not hold the build tree's path.
    function(mcpb_sanitize_sources_in directory)
        get_property(targets DIRECTORY ${directory} PROPERTY BUILDSYSTEM_TARGETS)
        foreach(target IN LISTS targets)
            get_target_property(type ${target} TYPE)
            if(type STREQUAL "INTERFACE_LIBRARY" OR type STREQUAL "UTILITY")
                continue()
            endif()
            get_target_property(sources ${target} SOURCES)
            get_target_property(source_dir ${target} SOURCE_DIR)
            list(FILTER sources INCLUDE REGEX "\\.cpp$")
            foreach(source IN LISTS sources)
                cmake_path(ABSOLUTE_PATH source BASE_DIRECTORY ${source_dir})
                cmake_path(IS_PREFIX PROJECT_BINARY_DIR ${source} NORMALIZE generated)
                if(NOT generated)
                    set_property(SOURCE ${source} TARGET_DIRECTORY ${target}
                                 APPEND PROPERTY COMPILE_OPTIONS -fsanitize=address,undefined)
                endif()
            endforeach()
        endforeach()
        get_property(subdirectories DIRECTORY ${directory} PROPERTY SUBDIRECTORIES)
        foreach(subdirectory IN LISTS subdirectories)
            mcpb_sanitize_sources_in(${subdirectory})
        endforeach()
    endfunction()
    cmake_language(DEFER DIRECTORY ${PROJECT_SOURCE_DIR}
                   CALL mcpb_sanitize_sources_in ${PROJECT_SOURCE_DIR})
endif()
