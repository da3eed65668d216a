# Opt-in targets a consumer links next to directspec::directspec, in the build tree
# (add_subdirectory) and in the installed package alike:
#   directspec::openmp  parallel training and evaluation (finds OpenMP; absent when it is not found)
#   directspec::native  -march=native: every SIMD level of the building machine (not portable)
#   directspec::avx2    -mavx2 -mfma: the level the kernels are tuned for, runs on x86-64 since 2013
# Without them the headers compile for the compiler's default target (SSE2 on x86-64), about 4x
# slower (docs/performance.md#build-flags); directspec::PrintBuildInfo() says which one a binary has.
if(NOT TARGET directspec::openmp)
  if(NOT OpenMP_CXX_FOUND)
    find_package(OpenMP COMPONENTS CXX QUIET)
  endif()
  if(OpenMP_CXX_FOUND)
    add_library(directspec::openmp INTERFACE IMPORTED GLOBAL)
    target_link_libraries(directspec::openmp INTERFACE OpenMP::OpenMP_CXX)
  endif()
endif()
if(NOT TARGET directspec::native)
  add_library(directspec::native INTERFACE IMPORTED GLOBAL)
  target_compile_options(directspec::native INTERFACE -march=native)
endif()
if(NOT TARGET directspec::avx2)
  add_library(directspec::avx2 INTERFACE IMPORTED GLOBAL)
  target_compile_options(directspec::avx2 INTERFACE -mavx2 -mfma)
endif()
