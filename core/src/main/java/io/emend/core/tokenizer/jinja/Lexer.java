package io.emend.core.tokenizer.jinja;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits template source into text, and the tokens of {@code {{ }}} and {@code {% %}} tags ({@code {# #}} comments
 * are dropped), applying Jinja's whitespace rules as Hugging Face's {@code apply_chat_template} configures them:
 * {@code trim_blocks} (the first newline after a block tag is removed), {@code lstrip_blocks} (spaces and tabs from
 * the start of a line up to a block tag are removed), and the {@code -} markers ({@code {%-}, {@code -%}},
 * {@code {{-}, {@code -}}}) that strip all whitespace on their side.
 */
final class Lexer {

    enum Kind { TEXT, OUTPUT_START, OUTPUT_END, BLOCK_START, BLOCK_END, NAME, STRING, INTEGER, FLOAT, OPERATOR, END }

    record Token(Kind kind, String text, int line) {
    }

    private static final String[] OPERATORS = {"//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">",
        "=", "(", ")", "[", "]", "{", "}", ".", ",", ":", "|"};

    private final String src;
    private final List<Token> tokens = new ArrayList<>();
    private int pos;
    private int line = 1;

    private Lexer(String src) {
        this.src = src;
    }

    static List<Token> tokenize(String source) {
        Lexer l = new Lexer(source);
        l.run();
        return l.tokens;
    }

    private void run() {
        boolean stripNextText = false;
        boolean trimNewline = false;
        while (pos < src.length()) {
            int open = nextTag(pos);
            String text = src.substring(pos, open < 0 ? src.length() : open);
            if (trimNewline) {
                text = text.startsWith("\r\n") ? text.substring(2) : text.startsWith("\n") ? text.substring(1) : text;
            }
            if (stripNextText) {
                text = text.stripLeading();
            }
            if (open < 0) {
                emitText(text);
                pos = src.length();
                break;
            }
            char kind = src.charAt(open + 1);
            boolean minus = open + 2 < src.length() && src.charAt(open + 2) == '-';
            boolean plus = open + 2 < src.length() && src.charAt(open + 2) == '+';
            if (minus) {
                text = text.stripTrailing();
            } else if (kind != '{' && !plus) {
                text = lstripBlock(text, open);
            }
            emitText(text);
            countLines(pos, open);
            pos = open + 2 + (minus || plus ? 1 : 0);
            switch (kind) {
                case '#' -> {
                    int close = src.indexOf("#}", pos);
                    if (close < 0) {
                        throw TemplateException.syntax(line, "comment is not closed with #}");
                    }
                    stripNextText = src.charAt(close - 1) == '-';
                    trimNewline = !stripNextText;
                    countLines(pos, close + 2);
                    pos = close + 2;
                }
                case '{' -> {
                    tokens.add(new Token(Kind.OUTPUT_START, "{{", line));
                    stripNextText = tagBody("}}");
                    tokens.add(new Token(Kind.OUTPUT_END, "}}", line));
                    trimNewline = false;
                }
                default -> {
                    tokens.add(new Token(Kind.BLOCK_START, "{%", line));
                    stripNextText = tagBody("%}");
                    tokens.add(new Token(Kind.BLOCK_END, "%}", line));
                    trimNewline = !stripNextText;
                }
            }
        }
        tokens.add(new Token(Kind.END, "", line));
    }

    private int nextTag(int from) {
        int i = from;
        while ((i = src.indexOf('{', i)) >= 0 && i + 1 < src.length()) {
            char c = src.charAt(i + 1);
            if (c == '{' || c == '%' || c == '#') {
                return i;
            }
            i++;
        }
        return -1;
    }

    /**
     * lstrip_blocks: when only spaces and tabs stand between the start of the tag's line in the source and the tag,
     * they are removed from the end of the text before it.
     */
    private String lstripBlock(String text, int tagStart) {
        int i = tagStart;
        while (i > pos && (src.charAt(i - 1) == ' ' || src.charAt(i - 1) == '\t')) {
            i--;
        }
        boolean lineStart = i == 0 || src.charAt(i - 1) == '\n';
        if (!lineStart) {
            return text;
        }
        int strip = Math.min(tagStart - i, text.length());
        return text.substring(0, text.length() - strip);
    }

    private void emitText(String text) {
        if (!text.isEmpty()) {
            tokens.add(new Token(Kind.TEXT, text, line));
        }
    }

    private void countLines(int from, int to) {
        for (int i = from; i < to && i < src.length(); i++) {
            if (src.charAt(i) == '\n') {
                line++;
            }
        }
    }

    /** Tokens up to the closing delimiter; returns whether it was written with {@code -} (strip what follows). */
    private boolean tagBody(String close) {
        while (true) {
            while (pos < src.length() && Character.isWhitespace(src.charAt(pos))) {
                if (src.charAt(pos) == '\n') {
                    line++;
                }
                pos++;
            }
            if (pos >= src.length()) {
                throw TemplateException.syntax(line, "tag is not closed with " + close);
            }
            if (src.startsWith("-" + close, pos)) {
                pos += 3;
                return true;
            }
            if (src.startsWith(close, pos)) {
                pos += 2;
                return false;
            }
            char c = src.charAt(pos);
            if (Character.isLetter(c) || c == '_') {
                int start = pos;
                while (pos < src.length() && (Character.isLetterOrDigit(src.charAt(pos)) || src.charAt(pos) == '_')) {
                    pos++;
                }
                tokens.add(new Token(Kind.NAME, src.substring(start, pos), line));
            } else if (Character.isDigit(c)) {
                int start = pos;
                while (pos < src.length() && Character.isDigit(src.charAt(pos))) {
                    pos++;
                }
                boolean fraction = pos + 1 < src.length() && src.charAt(pos) == '.'
                        && Character.isDigit(src.charAt(pos + 1));
                if (fraction) {
                    pos++;
                    while (pos < src.length() && Character.isDigit(src.charAt(pos))) {
                        pos++;
                    }
                }
                tokens.add(new Token(fraction ? Kind.FLOAT : Kind.INTEGER, src.substring(start, pos), line));
            } else if (c == '\'' || c == '"') {
                tokens.add(new Token(Kind.STRING, string(c), line));
            } else {
                String op = null;
                for (String o : OPERATORS) {
                    if (src.startsWith(o, pos)) {
                        op = o;
                        break;
                    }
                }
                if (op == null) {
                    throw TemplateException.syntax(line, "unexpected character '" + c + "'");
                }
                pos += op.length();
                tokens.add(new Token(Kind.OPERATOR, op, line));
            }
        }
    }

    /** A quoted string with Python's escapes ({@code \n}, {@code \t}, {@code \\}, quotes, {@code \}uXXXX). */
    private String string(char quote) {
        StringBuilder sb = new StringBuilder();
        pos++;
        while (true) {
            if (pos >= src.length()) {
                throw TemplateException.syntax(line, "string is not closed");
            }
            char c = src.charAt(pos++);
            if (c == quote) {
                return sb.toString();
            }
            if (c == '\n') {
                line++;
            }
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            if (pos >= src.length()) {
                throw TemplateException.syntax(line, "string ends in a backslash");
            }
            char e = src.charAt(pos++);
            switch (e) {
                case 'n' -> sb.append('\n');
                case 't' -> sb.append('\t');
                case 'r' -> sb.append('\r');
                case '\\', '\'', '"' -> sb.append(e);
                case 'u' -> {
                    if (pos + 4 > src.length()) {
                        throw TemplateException.syntax(line, "incomplete \\u escape");
                    }
                    sb.append((char) Integer.parseInt(src.substring(pos, pos + 4), 16));
                    pos += 4;
                }
                default -> sb.append('\\').append(e);
            }
        }
    }
}
