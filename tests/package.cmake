# ctest entries proving the two ways a downstream project consumes directspec.
foreach(mode package subdirectory)
  add_test(NAME consumer:${mode}
    COMMAND ${CMAKE_COMMAND} -DMODE=${mode} -DSOURCE=${PROJECT_SOURCE_DIR}
            -DBINARY=${PROJECT_BINARY_DIR} -DWORK=${CMAKE_CURRENT_BINARY_DIR}/consumer-${mode}
            -P ${CMAKE_CURRENT_SOURCE_DIR}/scripts/consumer_test.cmake)
  set_tests_properties(consumer:${mode} PROPERTIES TIMEOUT 600)
endforeach()
