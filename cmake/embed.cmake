# Usage: cmake -DIN=file -DOUT=file.cc -DNAMESPACE=ns -DFUNC=name -P embed.cmake
file(READ ${IN} content)
file(WRITE ${OUT} "// Generated from ${IN}; do not edit.\n#include <string_view>\nnamespace ${NAMESPACE} {\nstd::string_view ${FUNC}() {\n  static const char kDoc[] = R\"EMBED_DOC(${content})EMBED_DOC\";\n  return {kDoc, sizeof(kDoc) - 1};\n}\n}\n")
