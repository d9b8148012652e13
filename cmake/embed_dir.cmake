# Compiles every file under DIR into OUT as a table of (path, bytes), for the
# console's static assets (src/transports/console/assets.h). Hex, not a raw
# string: any byte, any file type, no delimiter to collide with.
# Usage: cmake -DDIR=dir -DOUT=file.cc -P embed_dir.cmake
file(GLOB_RECURSE files RELATIVE ${DIR} ${DIR}/*)
list(SORT files)
set(body "// Generated from ${DIR}; do not edit.\n#include \"transports/console/assets.h\"\nnamespace verbatim::console {\nnamespace {\n")
set(table "")
set(i 0)
foreach(f ${files})
  file(READ ${DIR}/${f} hex HEX)
  string(LENGTH "${hex}" hex_len)
  math(EXPR size "${hex_len} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(APPEND body "const unsigned char kFile${i}[] = {${bytes} 0};\n")
  string(APPEND table "    {\"${f}\", std::string_view(reinterpret_cast<const char*>(kFile${i}), ${size})},\n")
  math(EXPR i "${i} + 1")
endforeach()
string(APPEND body "}  // namespace\nconst std::vector<EmbeddedFile>& EmbeddedAssets() {\n  static const std::vector<EmbeddedFile> kAll = {\n${table}  };\n  return kAll;\n}\n}  // namespace verbatim::console\n")
file(WRITE ${OUT}.tmp "${body}")
# Only touch OUT when it changed, so an unchanged tree does not relink.
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUT}.tmp ${OUT})
