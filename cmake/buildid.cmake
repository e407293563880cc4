# buildid.cmake: run at every build (cmake -P), writes OUT, a header with
# MIG_BUILD_STRING: the release and which sources it was built from, so
# that two builds never look the same.
#
#   0.2.0 (git 1a2b3c4)                 a clean checkout at commit 1a2b3c4
#   0.2.0 (git 1a2b3c4-dirty.5d6e7f8)   with changes; 5d6e7f8 hashes them
#                                       (git diff HEAD), so two different
#                                       sets of changes look different
#   0.2.0 (sources 9a8b7c6, not git)    no git checkout: a hash of the
#                                       sources themselves
#
# The header is rewritten only when the string changes, so an unchanged
# tree rebuilds nothing. Inputs: SRC (the source folder), OUT, VERSION.
set(id "")
find_program(GIT git)
if(GIT)
  execute_process(COMMAND ${GIT} -C ${SRC} rev-parse --short=7 HEAD
                  OUTPUT_VARIABLE head OUTPUT_STRIP_TRAILING_WHITESPACE
                  RESULT_VARIABLE rc ERROR_QUIET)
  if(rc EQUAL 0 AND head)
    execute_process(COMMAND ${GIT} -C ${SRC} diff HEAD --no-ext-diff
                    OUTPUT_VARIABLE diff RESULT_VARIABLE rc2 ERROR_QUIET)
    if(rc2 EQUAL 0 AND NOT diff STREQUAL "")
      string(SHA256 dh "${diff}")
      string(SUBSTRING "${dh}" 0 7 dh)
      set(id "git ${head}-dirty.${dh}")
    else()
      set(id "git ${head}")
    endif()
  endif()
endif()
if(id STREQUAL "")
  file(GLOB_RECURSE files LIST_DIRECTORIES false RELATIVE ${SRC}
       ${SRC}/CMakeLists.txt ${SRC}/*.c ${SRC}/*.h ${SRC}/*.in ${SRC}/*.def
       ${SRC}/*.cmake)
  list(FILTER files EXCLUDE REGEX "^build")
  list(SORT files)
  set(all "")
  foreach(f IN LISTS files)
    file(SHA256 ${SRC}/${f} h)
    string(APPEND all "${f} ${h}\n")
  endforeach()
  string(SHA256 sh "${all}")
  string(SUBSTRING "${sh}" 0 7 sh)
  set(id "sources ${sh}, not git")
endif()
set(text "/* Made at build time by cmake/buildid.cmake. */\n#define MIG_BUILD_STRING \"${VERSION} (${id})\"\n")
set(old "")
if(EXISTS ${OUT})
  file(READ ${OUT} old)
endif()
if(NOT old STREQUAL text)
  file(WRITE ${OUT} "${text}")
endif()
