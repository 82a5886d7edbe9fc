# Used by scripts/quickstart.sh. Usage: awk -v train=TRAIN.jsonl -v val=VAL.jsonl -f fortunes_to_jsonl.awk FILES...
# Fortune files -> JSONL {"text": ...}: documents are separated by lines holding only '%'; every
# 20th document goes to the validation file. Portable awk (mawk, gawk, busybox): escapes are built
# by split + concatenation, since backslashes in gsub replacements differ between awks.
# re is a dynamic regex string (a /literal/ argument would be evaluated as a match against $0)
function rep(s, re, with,    parts, k, m, r) {
    m = split(s, parts, re)
    r = parts[1]
    for (k = 2; k <= m; k++) r = r with parts[k]
    return r
}
function flush() {
    if (doc != "") {
        n++
        doc = rep(doc, "\\\\", "\\\\")
        doc = rep(doc, "\"", "\\\"")
        doc = rep(doc, "\t", "\\t")
        gsub(/[\001-\010\013-\037\177]/, "", doc)   # overstrike backspaces and other controls
        doc = rep(doc, "\n", "\\n")
        print "{\"text\": \"" doc "\"}" > (n % 20 == 0 ? val : train)
    }
    doc = ""
}
FNR == 1 { flush() }
/^%$/ { flush(); next }
{ sub(/\r$/, ""); doc = (doc == "" ? $0 : doc "\n" $0) }
END { flush(); printf "%d documents\n", n > "/dev/stderr" }
