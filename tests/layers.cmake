# Structure checks of the sources, each a python script of tests/scripts/ over a tree:
# - the layer order of include/directspec/ (docs/architecture.md, "Layers"): a header never
#   includes a higher layer (check_layers.py lists every violation);
# - private helpers live in namespaces named `detail`, each helper name declared by one header
#   (docs/architecture.md, "Conventions"; check_detail_names.py lists the clashes).
# Each check also runs on a fixture tree that breaks its rule: it must fail there, naming the line.
if(DIRECTSPEC_TEST_PYTHON)
  # directspec_source_check(NAME SCRIPT DIRS dir... [FAILS_WITH regex])
  function(directspec_source_check)
    cmake_parse_arguments(C "" "NAME;SCRIPT;FAILS_WITH" "DIRS" ${ARGN})
    add_test(NAME ${C_NAME}
             COMMAND ${DIRECTSPEC_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/scripts/${C_SCRIPT}
                     ${C_DIRS})
    set_tests_properties(${C_NAME} PROPERTIES TIMEOUT 60 LABELS layers)
    if(DEFINED C_FAILS_WITH)
      set_tests_properties(${C_NAME} PROPERTIES PASS_REGULAR_EXPRESSION "${C_FAILS_WITH}")
    endif()
  endfunction()

  directspec_source_check(NAME layers:no_upward_includes SCRIPT check_layers.py
                          DIRS ${PROJECT_SOURCE_DIR}/include)
  directspec_source_check(NAME layers:fixture_upward_include_is_found SCRIPT check_layers.py
                          DIRS ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/layers_upward
                          FAILS_WITH "core/upward.hpp:3: core \\(layer 0\\) includes train \\(layer 5\\)")
  directspec_source_check(NAME layers:unique_detail_helpers SCRIPT check_detail_names.py
                          DIRS ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/examples/cli)
  directspec_source_check(NAME layers:fixture_detail_clash_is_found SCRIPT check_detail_names.py
                          DIRS ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/detail_clash
                          FAILS_WITH "Number: .*first.hpp:4, .*second.hpp:4")
endif()
