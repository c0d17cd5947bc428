// The repository's docs as the unit tests read them (EXECGATE_SOURCE_DIR): a file's text,
// one "## " section of it, the code spans (`...`) of a text. Tests that hold the docs to
// the code (every reason, event kind and refusal named) use these.
#pragma once

#include <cstddef>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace execgate::test {

// The text of REL below the source directory ("" when it cannot be read).
inline std::string read_doc(const std::string& source_dir, const std::string& rel) {
  std::ifstream in(source_dir + "/" + rel);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The text of the "## " section whose heading starts with `heading`, up to the next "## ".
inline std::string section(const std::string& doc, const std::string& heading) {
  std::istringstream in(doc);
  std::string line, text;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) {
      if (inside) break;
      inside = line.rfind("## " + heading, 0) == 0;
      continue;
    }
    if (inside) text += line + "\n";
  }
  return text;
}

// Code spans (`...`) of a Markdown text.
inline std::set<std::string> code_spans(const std::string& text) {
  std::set<std::string> spans;
  std::size_t pos = 0;
  while ((pos = text.find('`', pos)) != std::string::npos) {
    const std::size_t end = text.find('`', pos + 1);
    if (end == std::string::npos) break;
    spans.insert(text.substr(pos + 1, end - pos - 1));
    pos = end + 1;
  }
  return spans;
}

}  // namespace execgate::test
