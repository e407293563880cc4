# cmake -DSRC=dir -DDST=dir -P fresh_corpus.cmake: replaces DST with a copy
# of SRC, so each smoke run starts from the seeds and libFuzzer's new
# inputs land in the build tree, never in the source tree.
file(REMOVE_RECURSE ${DST})
file(COPY ${SRC}/ DESTINATION ${DST})
