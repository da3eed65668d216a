# The layer order of include/directspec/ (docs/architecture.md, "Layers"): a header never
# includes a higher layer. tests/scripts/check_layers.py lists every violation.
if(DIRECTSPEC_TEST_PYTHON)
  add_test(NAME layers:no_upward_includes
           COMMAND ${DIRECTSPEC_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/scripts/check_layers.py
                   ${PROJECT_SOURCE_DIR}/include)
  # The check can fail: on a fixture tree where core/ includes train/ it must name the line.
  add_test(NAME layers:fixture_upward_include_is_found
           COMMAND ${DIRECTSPEC_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/scripts/check_layers.py
                   ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/layers_upward)
  set_tests_properties(layers:no_upward_includes layers:fixture_upward_include_is_found
                       PROPERTIES TIMEOUT 60 LABELS layers)
  set_tests_properties(layers:fixture_upward_include_is_found PROPERTIES
    PASS_REGULAR_EXPRESSION "core/upward.hpp:3: core \\(layer 0\\) includes train \\(layer 5\\)")
endif()

# Private helpers live in namespaces named `detail`, each helper name declared by one header
# (docs/architecture.md, "Detail namespaces"): tests/scripts/check_detail_names.py lists clashes.
if(DIRECTSPEC_TEST_PYTHON)
  add_test(NAME layers:unique_detail_helpers
           COMMAND ${DIRECTSPEC_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/scripts/check_detail_names.py
                   ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/examples/cli)
  add_test(NAME layers:fixture_detail_clash_is_found
           COMMAND ${DIRECTSPEC_TEST_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/scripts/check_detail_names.py
                   ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/detail_clash)
  set_tests_properties(layers:unique_detail_helpers layers:fixture_detail_clash_is_found
                       PROPERTIES TIMEOUT 60 LABELS layers)
  set_tests_properties(layers:fixture_detail_clash_is_found PROPERTIES
    PASS_REGULAR_EXPRESSION "Number: .*first.hpp:4, .*second.hpp:4")
endif()
