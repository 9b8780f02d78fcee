package io.emend.core.tokenizer.jinja;

import io.emend.core.tokenizer.jinja.Lexer.Kind;
import io.emend.core.tokenizer.jinja.Lexer.Token;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Recursive descent over the lexer's tokens, with Jinja's precedence (lowest first): conditional
 * {@code a if b else c}, {@code or}, {@code and}, {@code not}, comparisons and {@code in}, {@code ~}, {@code + -},
 * {@code * / // %}, unary {@code - +}, then a primary with its postfixes ({@code .name}, {@code [i]}, {@code [a:b]},
 * calls), filters ({@code | f}) and tests ({@code is [not] t}). Statements: {@code if/elif/else}, {@code for} (with
 * {@code else} and an inline {@code if}), {@code set}. Anything else (macros, blocks, includes) is rejected by name.
 */
final class Parser {

    private static final Set<String> COMPARISONS = Set.of("==", "!=", "<", ">", "<=", ">=");

    private final List<Token> tokens;
    private int at;

    private Parser(List<Token> tokens) {
        this.tokens = tokens;
    }

    static List<Node> parse(String source) {
        return new Parser(Lexer.tokenize(source)).nodes(Set.of());
    }

    /** Nodes until END or a block tag whose keyword is in {@code stops} (left unconsumed, at its BLOCK_START). */
    private List<Node> nodes(Set<String> stops) {
        List<Node> out = new ArrayList<>();
        while (true) {
            Token t = peek();
            switch (t.kind()) {
                case END -> {
                    if (!stops.isEmpty()) {
                        throw TemplateException.syntax(t.line(), "missing {% " + String.join(" / ", stops) + " %}");
                    }
                    return out;
                }
                case TEXT -> {
                    at++;
                    out.add(new Node.Text(t.text()));
                }
                case OUTPUT_START -> {
                    at++;
                    out.add(new Node.Output(expression()));
                    expect(Kind.OUTPUT_END, "}}");
                }
                case BLOCK_START -> {
                    String keyword = tokens.get(at + 1).text();
                    if (stops.contains(keyword)) {
                        return out;
                    }
                    at++;
                    out.add(statement());
                }
                default -> throw TemplateException.syntax(t.line(), "unexpected '" + t.text() + "'");
            }
        }
    }

    private Node statement() {
        Token keyword = next();
        if (keyword.kind() != Kind.NAME) {
            throw TemplateException.syntax(keyword.line(), "expected a statement after {%");
        }
        return switch (keyword.text()) {
            case "if" -> ifStatement();
            case "for" -> forStatement();
            case "set" -> setStatement();
            case "elif", "else", "endif", "endfor" -> throw TemplateException.syntax(keyword.line(), "{% "
                    + keyword.text() + " %} without an open block");
            default -> throw TemplateException.syntax(keyword.line(), "{% " + keyword.text()
                    + " %} is not supported (supported: if/elif/else, for, set)");
        };
    }

    private Node ifStatement() {
        List<Node.Branch> branches = new ArrayList<>();
        Expr test = expression();
        expect(Kind.BLOCK_END, "%}");
        while (true) {
            List<Node> body = nodes(Set.of("elif", "else", "endif"));
            branches.add(new Node.Branch(test, body));
            expect(Kind.BLOCK_START, "{%");
            String k = next().text();
            switch (k) {
                case "elif" -> {
                    test = expression();
                    expect(Kind.BLOCK_END, "%}");
                }
                case "else" -> {
                    expect(Kind.BLOCK_END, "%}");
                    List<Node> otherwise = nodes(Set.of("endif"));
                    endTag("endif");
                    return new Node.If(branches, otherwise);
                }
                default -> {
                    expect(Kind.BLOCK_END, "%}");
                    return new Node.If(branches, List.of());
                }
            }
        }
    }

    private Node forStatement() {
        List<String> targets = new ArrayList<>();
        targets.add(name());
        while (accept(",")) {
            targets.add(name());
        }
        Token in = next();
        if (!in.text().equals("in")) {
            throw TemplateException.syntax(in.line(), "expected 'in' in the for statement");
        }
        Expr iterable = orExpression();
        Expr filter = null;
        if (peek().kind() == Kind.NAME && peek().text().equals("if")) {
            at++;
            filter = orExpression();
        }
        expect(Kind.BLOCK_END, "%}");
        List<Node> body = nodes(Set.of("else", "endfor"));
        List<Node> otherwise = List.of();
        expect(Kind.BLOCK_START, "{%");
        if (next().text().equals("else")) {
            expect(Kind.BLOCK_END, "%}");
            otherwise = nodes(Set.of("endfor"));
            endTag("endfor");
        } else {
            expect(Kind.BLOCK_END, "%}");
        }
        return new Node.For(targets, iterable, filter, body, otherwise);
    }

    private Node setStatement() {
        String target = name();
        String attribute = null;
        if (accept(".")) {
            attribute = name();
        }
        if (!accept("=")) {
            throw TemplateException.syntax(peek().line(), "{% set %} needs '= value' (block set is not supported)");
        }
        Expr value = expression();
        expect(Kind.BLOCK_END, "%}");
        return new Node.Set(target, attribute, value);
    }

    private void endTag(String keyword) {
        expect(Kind.BLOCK_START, "{%");
        Token t = next();
        if (!t.text().equals(keyword)) {
            throw TemplateException.syntax(t.line(), "expected {% " + keyword + " %}, got {% " + t.text() + " %}");
        }
        expect(Kind.BLOCK_END, "%}");
    }

    Expr expression() {
        Expr e = orExpression();
        if (peek().kind() == Kind.NAME && peek().text().equals("if")) {
            at++;
            Expr test = orExpression();
            Expr otherwise = null;
            if (peek().kind() == Kind.NAME && peek().text().equals("else")) {
                at++;
                otherwise = expression();
            }
            return new Expr.Conditional(test, e, otherwise);
        }
        return e;
    }

    private Expr orExpression() {
        Expr e = andExpression();
        while (acceptName("or")) {
            e = new Expr.Binary("or", e, andExpression());
        }
        return e;
    }

    private Expr andExpression() {
        Expr e = notExpression();
        while (acceptName("and")) {
            e = new Expr.Binary("and", e, notExpression());
        }
        return e;
    }

    private Expr notExpression() {
        if (acceptName("not")) {
            return new Expr.Unary("not", notExpression());
        }
        return comparison();
    }

    private Expr comparison() {
        Expr e = concatenation();
        while (true) {
            Token t = peek();
            if (t.kind() == Kind.OPERATOR && COMPARISONS.contains(t.text())) {
                at++;
                e = new Expr.Binary(t.text(), e, concatenation());
            } else if (t.kind() == Kind.NAME && t.text().equals("in")) {
                at++;
                e = new Expr.Binary("in", e, concatenation());
            } else if (t.kind() == Kind.NAME && t.text().equals("not") && tokens.get(at + 1).text().equals("in")) {
                at += 2;
                e = new Expr.Binary("not in", e, concatenation());
            } else {
                return e;
            }
        }
    }

    private Expr concatenation() {
        Expr e = sum();
        while (accept("~")) {
            e = new Expr.Binary("~", e, sum());
        }
        return e;
    }

    private Expr sum() {
        Expr e = product();
        while (true) {
            if (accept("+")) {
                e = new Expr.Binary("+", e, product());
            } else if (accept("-")) {
                e = new Expr.Binary("-", e, product());
            } else {
                return e;
            }
        }
    }

    private Expr product() {
        Expr e = unary();
        while (true) {
            Token t = peek();
            if (t.kind() == Kind.OPERATOR && (t.text().equals("*") || t.text().equals("/") || t.text().equals("//")
                    || t.text().equals("%"))) {
                at++;
                e = new Expr.Binary(t.text(), e, unary());
            } else {
                return e;
            }
        }
    }

    private Expr unary() {
        if (accept("-")) {
            return new Expr.Unary("-", unary());
        }
        if (accept("+")) {
            return new Expr.Unary("+", unary());
        }
        return filtered(postfix(primary()));
    }

    private Expr filtered(Expr e) {
        while (true) {
            if (accept("|")) {
                String name = name();
                e = new Expr.Filter(e, name, peekOperator("(") ? arguments().positional : List.of());
            } else if (acceptName("is")) {
                boolean negated = acceptName("not");
                String name = name();
                List<Expr> args = peekOperator("(") ? arguments().positional : List.of();
                e = new Expr.Test(e, name, args, negated);
            } else {
                return e;
            }
        }
    }

    private Expr postfix(Expr e) {
        while (true) {
            if (accept(".")) {
                e = new Expr.Attribute(e, name());
            } else if (peekOperator("[")) {
                at++;
                e = subscript(e);
            } else if (peekOperator("(")) {
                Arguments a = arguments();
                e = new Expr.Call(e, a.positional, a.names, a.values);
            } else {
                return e;
            }
        }
    }

    private Expr subscript(Expr target) {
        Expr start = peekOperator(":") ? null : expression();
        if (accept("]")) {
            return new Expr.Item(target, start);
        }
        expectOperator(":");
        Expr stop = peekOperator(":") || peekOperator("]") ? null : expression();
        Expr step = null;
        if (accept(":")) {
            step = peekOperator("]") ? null : expression();
        }
        expectOperator("]");
        return new Expr.Slice(target, start, stop, step);
    }

    private record Arguments(List<Expr> positional, List<String> names, List<Expr> values) {
    }

    private Arguments arguments() {
        expectOperator("(");
        List<Expr> positional = new ArrayList<>();
        List<String> names = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        if (!accept(")")) {
            do {
                if (peek().kind() == Kind.NAME && tokens.get(at + 1).text().equals("=")
                        && tokens.get(at + 1).kind() == Kind.OPERATOR) {
                    names.add(next().text());
                    at++;
                    values.add(expression());
                } else {
                    positional.add(expression());
                }
            } while (accept(","));
            expectOperator(")");
        }
        return new Arguments(positional, names, values);
    }

    private Expr primary() {
        Token t = next();
        switch (t.kind()) {
            case STRING -> {
                StringBuilder sb = new StringBuilder(t.text());
                while (peek().kind() == Kind.STRING) { // adjacent literals concatenate, as in Python
                    sb.append(next().text());
                }
                return new Expr.Literal(sb.toString());
            }
            case INTEGER -> {
                return new Expr.Literal(Long.parseLong(t.text()));
            }
            case FLOAT -> {
                return new Expr.Literal(Double.parseDouble(t.text()));
            }
            case NAME -> {
                return switch (t.text()) {
                    case "true", "True" -> new Expr.Literal(Boolean.TRUE);
                    case "false", "False" -> new Expr.Literal(Boolean.FALSE);
                    case "none", "None" -> new Expr.Literal(null);
                    default -> new Expr.Name(t.text());
                };
            }
            case OPERATOR -> {
                switch (t.text()) {
                    case "(" -> {
                        Expr e = expression();
                        expectOperator(")");
                        return e;
                    }
                    case "[" -> {
                        List<Expr> items = new ArrayList<>();
                        if (!accept("]")) {
                            do {
                                if (peekOperator("]")) {
                                    break;
                                }
                                items.add(expression());
                            } while (accept(","));
                            expectOperator("]");
                        }
                        return new Expr.ListOf(items);
                    }
                    case "{" -> {
                        List<Expr> keys = new ArrayList<>();
                        List<Expr> values = new ArrayList<>();
                        if (!accept("}")) {
                            do {
                                if (peekOperator("}")) {
                                    break;
                                }
                                keys.add(expression());
                                expectOperator(":");
                                values.add(expression());
                            } while (accept(","));
                            expectOperator("}");
                        }
                        return new Expr.DictOf(keys, values);
                    }
                    default -> {
                    }
                }
            }
            default -> {
            }
        }
        throw TemplateException.syntax(t.line(), "unexpected '" + t.text() + "' in an expression");
    }

    private Token peek() {
        return tokens.get(at);
    }

    private Token next() {
        Token t = tokens.get(at);
        if (t.kind() != Kind.END) {
            at++;
        }
        return t;
    }

    private String name() {
        Token t = next();
        if (t.kind() != Kind.NAME) {
            throw TemplateException.syntax(t.line(), "expected a name, got '" + t.text() + "'");
        }
        return t.text();
    }

    private boolean peekOperator(String op) {
        return peek().kind() == Kind.OPERATOR && peek().text().equals(op);
    }

    private boolean accept(String op) {
        if (peekOperator(op)) {
            at++;
            return true;
        }
        return false;
    }

    private boolean acceptName(String name) {
        if (peek().kind() == Kind.NAME && peek().text().equals(name)) {
            at++;
            return true;
        }
        return false;
    }

    private void expectOperator(String op) {
        if (!accept(op)) {
            throw TemplateException.syntax(peek().line(), "expected '" + op + "', got '" + peek().text() + "'");
        }
    }

    private void expect(Kind kind, String what) {
        Token t = next();
        if (t.kind() != kind) {
            throw TemplateException.syntax(t.line(), "expected '" + what + "', got '" + t.text() + "'");
        }
    }
}
