# mig_static(target): link target statically, as a PIE. Used for the
# programs that start once per job: mig (the launcher, and the stub of a
# caller that execs), mig-reaper and mig-standin.
#
# With musl installed (Debian: musl-tools), they are built and linked
# against it: glibc's start reads the CPU's cache sizes through cpuid, which
# traps to the hypervisor on a virtual machine (about 0.2 ms of every start
# on the machine we measure on), and musl's start does not. musl.specs is
# what the musl-gcc wrapper does, for a static PIE only, so that gcc builds
# these targets beside the glibc ones in one build. Without musl, or with
# another compiler, they are linked statically against glibc.
option(MIG_MUSL "Build the per-job programs against musl when it is installed" ON)
set(MIG_MUSL_SPECS "")
set(why "MIG_MUSL is off")
if(MIG_MUSL AND NOT CMAKE_C_COMPILER_ID STREQUAL "GNU")
  set(why "musl.specs is for gcc")
elseif(MIG_MUSL)
  set(why "install musl-tools for a cheaper start")
  string(REPLACE "-gnu" "-musl" musl_triple "${CMAKE_LIBRARY_ARCHITECTURE}")
  find_path(MIG_MUSL_LIB rcrt1.o
            PATHS /usr/lib/${musl_triple} /usr/lib/musl/lib /usr/local/musl/lib
            NO_DEFAULT_PATH)
  find_path(MIG_MUSL_INCLUDE stdio.h
            PATHS /usr/include/${musl_triple} /usr/lib/musl/include
                  /usr/local/musl/include
            NO_DEFAULT_PATH)
  if(MIG_MUSL_LIB AND MIG_MUSL_INCLUDE)
    set(MIG_MUSL_SPECS ${CMAKE_BINARY_DIR}/musl.specs)
    configure_file(${CMAKE_CURRENT_LIST_DIR}/musl.specs.in ${MIG_MUSL_SPECS}
                   @ONLY)
  endif()
endif()
if(MIG_MUSL_SPECS)
  message(STATUS "mig, mig-reaper, mig-standin: static, musl")
else()
  message(STATUS "mig, mig-reaper, mig-standin: static, glibc (${why})")
endif()

function(mig_static target)
  if(MIG_MUSL_SPECS)
    target_compile_options(${target} PRIVATE -specs=${MIG_MUSL_SPECS})
    target_link_options(${target} PRIVATE -specs=${MIG_MUSL_SPECS}
                        -static-pie)
  else()
    target_link_options(${target} PRIVATE -static-pie)
  endif()
endfunction()
