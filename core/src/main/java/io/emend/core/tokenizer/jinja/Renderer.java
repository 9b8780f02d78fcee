package io.emend.core.tokenizer.jinja;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Evaluates a parsed template over Python-like values: {@code String}, {@code Long}, {@code Double}, {@code Boolean},
 * {@code null} (none), {@code List}, {@code Map}, and {@link #UNDEFINED} for names and keys that do not exist (it
 * renders as nothing and is false, as Jinja's default undefined). Truthiness, equality, {@code +} and output follow
 * Python's rules for these types; a type error (adding a string to a number) fails the render.
 */
final class Renderer {

    /** A name or key that does not exist. */
    static final Object UNDEFINED = new Object() {
        @Override
        public String toString() {
            return "undefined";
        }
    };

    /** A callable global such as {@code raise_exception}. */
    @FunctionalInterface
    interface GlobalFunction {
        Object call(List<Object> args);
    }

    private final Deque<Map<String, Object>> scopes = new ArrayDeque<>();
    private final StringBuilder out = new StringBuilder();

    Renderer(Map<String, Object> globals) {
        Map<String, Object> root = new HashMap<>();
        root.put("raise_exception", (GlobalFunction) args -> {
            throw new TemplateException("chat template: " + (args.isEmpty() ? "raise_exception()" : str(args.get(0))),
                    true);
        });
        root.put("namespace", (GlobalFunction) args -> new LinkedHashMap<String, Object>());
        root.putAll(globals);
        scopes.push(root);
    }

    String render(List<Node> body) {
        run(body);
        return out.toString();
    }

    private void run(List<Node> body) {
        for (Node n : body) {
            switch (n) {
                case Node.Text t -> out.append(t.text());
                case Node.Output o -> out.append(str(eval(o.expr())));
                case Node.If i -> {
                    boolean done = false;
                    for (Node.Branch b : i.branches()) {
                        if (truthy(eval(b.test()))) {
                            run(b.body());
                            done = true;
                            break;
                        }
                    }
                    if (!done) {
                        run(i.otherwise());
                    }
                }
                case Node.For f -> loop(f);
                case Node.Set s -> {
                    Object v = eval(s.value());
                    if (s.attribute() == null) {
                        scopes.peek().put(s.name(), v);
                    } else if (lookup(s.name()) instanceof Map<?, ?> m) {
                        @SuppressWarnings("unchecked")
                        Map<String, Object> ns = (Map<String, Object>) m;
                        ns.put(s.attribute(), v);
                    } else {
                        throw TemplateException.runtime("cannot set " + s.name() + "." + s.attribute()
                                + ": " + s.name() + " is not a namespace()");
                    }
                }
            }
        }
    }

    private void loop(Node.For f) {
        List<Object> items = new ArrayList<>();
        for (Object item : iterate(eval(f.iterable()))) {
            if (f.filter() == null) {
                items.add(item);
                continue;
            }
            scopes.push(bind(new HashMap<>(), f.targets(), item));
            try {
                if (truthy(eval(f.filter()))) {
                    items.add(item);
                }
            } finally {
                scopes.pop();
            }
        }
        if (items.isEmpty()) {
            run(f.otherwise());
            return;
        }
        for (int i = 0; i < items.size(); i++) {
            Map<String, Object> scope = bind(new HashMap<>(), f.targets(), items.get(i));
            Map<String, Object> loop = new HashMap<>();
            loop.put("index", (long) i + 1);
            loop.put("index0", (long) i);
            loop.put("revindex", (long) (items.size() - i));
            loop.put("revindex0", (long) (items.size() - i - 1));
            loop.put("first", i == 0);
            loop.put("last", i == items.size() - 1);
            loop.put("length", (long) items.size());
            loop.put("previtem", i > 0 ? items.get(i - 1) : UNDEFINED);
            loop.put("nextitem", i + 1 < items.size() ? items.get(i + 1) : UNDEFINED);
            scope.put("loop", loop);
            scopes.push(scope);
            try {
                run(f.body());
            } finally {
                scopes.pop();
            }
        }
    }

    private static Map<String, Object> bind(Map<String, Object> scope, List<String> targets, Object item) {
        if (targets.size() == 1) {
            scope.put(targets.get(0), item);
            return scope;
        }
        List<Object> parts = iterate(item);
        if (parts.size() != targets.size()) {
            throw TemplateException.runtime("cannot unpack " + parts.size() + " values into " + targets);
        }
        for (int i = 0; i < targets.size(); i++) {
            scope.put(targets.get(i), parts.get(i));
        }
        return scope;
    }

    private Object lookup(String name) {
        for (Map<String, Object> scope : scopes) {
            if (scope.containsKey(name)) {
                return scope.get(name);
            }
        }
        return UNDEFINED;
    }

    Object eval(Expr e) {
        return switch (e) {
            case Expr.Literal l -> l.value();
            case Expr.Name n -> lookup(n.name());
            case Expr.ListOf l -> {
                List<Object> items = new ArrayList<>();
                l.items().forEach(x -> items.add(eval(x)));
                yield items;
            }
            case Expr.DictOf d -> {
                Map<Object, Object> map = new LinkedHashMap<>();
                for (int i = 0; i < d.keys().size(); i++) {
                    map.put(eval(d.keys().get(i)), eval(d.values().get(i)));
                }
                yield map;
            }
            case Expr.Attribute a -> attribute(eval(a.target()), a.name());
            case Expr.Item i -> item(eval(i.target()), eval(i.index()));
            case Expr.Slice s -> slice(eval(s.target()), s.start() == null ? null : eval(s.start()),
                    s.stop() == null ? null : eval(s.stop()), s.step() == null ? null : eval(s.step()));
            case Expr.Call c -> call(c);
            case Expr.Filter f -> {
                List<Object> args = new ArrayList<>();
                f.args().forEach(x -> args.add(eval(x)));
                yield Builtins.filter(f.name(), eval(f.value()), args);
            }
            case Expr.Test t -> {
                List<Object> args = new ArrayList<>();
                t.args().forEach(x -> args.add(eval(x)));
                yield Builtins.test(t.name(), eval(t.value()), args) != t.negated();
            }
            case Expr.Unary u -> switch (u.op()) {
                case "not" -> !truthy(eval(u.operand()));
                case "-" -> negate(eval(u.operand()));
                default -> eval(u.operand());
            };
            case Expr.Conditional c -> truthy(eval(c.test())) ? eval(c.then())
                    : c.otherwise() == null ? UNDEFINED : eval(c.otherwise());
            case Expr.Binary b -> binary(b);
        };
    }

    private Object call(Expr.Call c) {
        List<Object> args = new ArrayList<>();
        c.args().forEach(x -> args.add(eval(x)));
        if (c.callee() instanceof Expr.Attribute a) {
            Object target = eval(a.target());
            Object member = attribute(target, a.name());
            if (member == UNDEFINED || !(member instanceof GlobalFunction)) {
                return Builtins.method(target, a.name(), args);
            }
        }
        Object f = eval(c.callee());
        if (f instanceof GlobalFunction fn) {
            if (!c.keywordNames().isEmpty()) {
                if (!(c.callee() instanceof Expr.Name n && n.name().equals("namespace"))) {
                    throw TemplateException.runtime("keyword arguments are only supported for namespace()");
                }
                Map<String, Object> ns = new LinkedHashMap<>();
                for (int i = 0; i < c.keywordNames().size(); i++) {
                    ns.put(c.keywordNames().get(i), eval(c.keywordValues().get(i)));
                }
                return ns;
            }
            return fn.call(args);
        }
        throw TemplateException.runtime(describe(c.callee()) + " is not callable");
    }

    private static String describe(Expr e) {
        return switch (e) {
            case Expr.Name n -> n.name();
            case Expr.Attribute a -> describe(a.target()) + "." + a.name();
            default -> "expression";
        };
    }

    private Object binary(Expr.Binary b) {
        switch (b.op()) {
            case "and" -> {
                Object left = eval(b.left());
                return truthy(left) ? eval(b.right()) : left;
            }
            case "or" -> {
                Object left = eval(b.left());
                return truthy(left) ? left : eval(b.right());
            }
            default -> {
            }
        }
        Object l = eval(b.left());
        Object r = eval(b.right());
        return switch (b.op()) {
            case "==" -> equal(l, r);
            case "!=" -> !equal(l, r);
            case "<", ">", "<=", ">=" -> {
                int c = compare(l, r);
                yield switch (b.op()) {
                    case "<" -> c < 0;
                    case ">" -> c > 0;
                    case "<=" -> c <= 0;
                    default -> c >= 0;
                };
            }
            case "in" -> contains(r, l);
            case "not in" -> !contains(r, l);
            case "~" -> str(l) + str(r);
            case "+" -> add(l, r);
            default -> arithmetic(b.op(), l, r);
        };
    }

    private static Object add(Object l, Object r) {
        if (l instanceof String a && r instanceof String c) {
            return a + c;
        }
        if (l instanceof List<?> a && r instanceof List<?> c) {
            List<Object> out = new ArrayList<>(a);
            out.addAll(c);
            return out;
        }
        if (isNumber(l) && isNumber(r)) {
            return arithmetic("+", l, r);
        }
        throw TemplateException.runtime("cannot add " + typeName(l) + " and " + typeName(r));
    }

    private static Object arithmetic(String op, Object l, Object r) {
        if (!isNumber(l) || !isNumber(r)) {
            throw TemplateException.runtime("unsupported operand types for " + op + ": " + typeName(l) + " and "
                    + typeName(r));
        }
        if (isInteger(l) && isInteger(r) && !op.equals("/")) {
            long a = asLong(l);
            long c = asLong(r);
            if ((op.equals("%") || op.equals("//")) && c == 0) {
                throw TemplateException.runtime("integer division or modulo by zero");
            }
            return switch (op) {
                case "+" -> a + c;
                case "-" -> a - c;
                case "*" -> a * c;
                case "//" -> Math.floorDiv(a, c);
                default -> Math.floorMod(a, c);
            };
        }
        double a = ((Number) asNumber(l)).doubleValue();
        double c = ((Number) asNumber(r)).doubleValue();
        return switch (op) {
            case "+" -> a + c;
            case "-" -> a - c;
            case "*" -> a * c;
            case "/" -> a / c;
            case "//" -> Math.floor(a / c);
            default -> a - c * Math.floor(a / c);
        };
    }

    private static Object negate(Object v) {
        if (isInteger(v)) {
            return -asLong(v);
        }
        if (v instanceof Double d) {
            return -d;
        }
        throw TemplateException.runtime("bad operand type for unary -: " + typeName(v));
    }

    static Object attribute(Object target, String name) {
        if (target instanceof Map<?, ?> m) {
            return m.containsKey(name) ? m.get(name) : UNDEFINED;
        }
        return UNDEFINED;
    }

    static Object item(Object target, Object index) {
        if (target instanceof Map<?, ?> m) {
            return m.containsKey(index) ? m.get(index) : UNDEFINED;
        }
        if ((target instanceof List<?> || target instanceof String) && isInteger(index)) {
            int size = target instanceof List<?> l ? l.size() : ((String) target).length();
            long i = asLong(index);
            if (i < 0) {
                i += size;
            }
            if (i < 0 || i >= size) {
                return UNDEFINED;
            }
            return target instanceof List<?> l ? l.get((int) i) : String.valueOf(((String) target).charAt((int) i));
        }
        return UNDEFINED;
    }

    /** Python's {@code seq[start:stop:step]} for lists and strings. */
    static Object slice(Object target, Object start, Object stop, Object step) {
        int size;
        if (target instanceof List<?> l) {
            size = l.size();
        } else if (target instanceof String s) {
            size = s.length();
        } else {
            throw TemplateException.runtime("cannot slice " + typeName(target));
        }
        long st = step == null ? 1 : asLong(step);
        if (st == 0) {
            throw TemplateException.runtime("slice step cannot be zero");
        }
        long lo = bound(start, size, st > 0 ? 0 : size - 1, st);
        long hi = bound(stop, size, st > 0 ? size : -1, st);
        List<Object> items = new ArrayList<>();
        StringBuilder chars = new StringBuilder();
        for (long i = lo; st > 0 ? i < hi : i > hi; i += st) {
            if (target instanceof List<?> l) {
                items.add(l.get((int) i));
            } else {
                chars.append(((String) target).charAt((int) i));
            }
        }
        return target instanceof List<?> ? items : chars.toString();
    }

    private static long bound(Object v, int size, long fallback, long step) {
        if (v == null || v == UNDEFINED) {
            return fallback;
        }
        long i = asLong(v);
        if (i < 0) {
            i += size;
        }
        return step > 0 ? Math.max(0, Math.min(i, size)) : Math.max(-1, Math.min(i, size - 1));
    }

    static List<Object> iterate(Object v) {
        if (v instanceof List<?> l) {
            return new ArrayList<>(l);
        }
        if (v instanceof Map<?, ?> m) {
            return new ArrayList<>(m.keySet());
        }
        if (v instanceof String s) {
            List<Object> out = new ArrayList<>();
            s.codePoints().forEach(c -> out.add(new String(Character.toChars(c))));
            return out;
        }
        if (v == UNDEFINED || v == null) {
            if (v == null) {
                throw TemplateException.runtime("'NoneType' object is not iterable");
            }
            return List.of();
        }
        throw TemplateException.runtime("'" + typeName(v) + "' object is not iterable");
    }

    static boolean truthy(Object v) {
        return switch (v) {
            case null -> false;
            case Boolean b -> b;
            case Long l -> l != 0;
            case Integer i -> i != 0;
            case Double d -> d != 0;
            case String s -> !s.isEmpty();
            case List<?> l -> !l.isEmpty();
            case Map<?, ?> m -> !m.isEmpty();
            default -> v != UNDEFINED;
        };
    }

    static boolean equal(Object l, Object r) {
        if (isNumber(l) && isNumber(r)) {
            return ((Number) asNumber(l)).doubleValue() == ((Number) asNumber(r)).doubleValue();
        }
        if (l == UNDEFINED || r == UNDEFINED) {
            return l == r;
        }
        return Objects.equals(l, r);
    }

    private static int compare(Object l, Object r) {
        if (isNumber(l) && isNumber(r)) {
            return Double.compare(((Number) asNumber(l)).doubleValue(), ((Number) asNumber(r)).doubleValue());
        }
        if (l instanceof String a && r instanceof String b) {
            return a.compareTo(b);
        }
        throw TemplateException.runtime("cannot compare " + typeName(l) + " and " + typeName(r));
    }

    private static boolean contains(Object container, Object item) {
        return switch (container) {
            case String s when item instanceof String i -> s.contains(i);
            case List<?> l -> l.stream().anyMatch(x -> equal(x, item));
            case Map<?, ?> m -> m.containsKey(item);
            default -> throw TemplateException.runtime("argument of type '" + typeName(container)
                    + "' is not iterable");
        };
    }

    /** Python's {@code str()}: None, True/False, lists and dicts in repr form. */
    static String str(Object v) {
        return switch (v) {
            case null -> "None";
            case String s -> s;
            case Boolean b -> b ? "True" : "False";
            case Double d -> d == Math.rint(d) && !Double.isInfinite(d) ? String.format(Locale.ROOT, "%.1f", d)
                    : String.valueOf(d);
            case List<?> l -> {
                List<String> parts = new ArrayList<>();
                l.forEach(x -> parts.add(repr(x)));
                yield "[" + String.join(", ", parts) + "]";
            }
            case Map<?, ?> m -> {
                List<String> parts = new ArrayList<>();
                m.forEach((k, x) -> parts.add(repr(k) + ": " + repr(x)));
                yield "{" + String.join(", ", parts) + "}";
            }
            default -> v == UNDEFINED ? "" : v.toString();
        };
    }

    private static String repr(Object v) {
        return v instanceof String s ? "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'" : str(v);
    }

    static boolean isNumber(Object v) {
        return v instanceof Long || v instanceof Integer || v instanceof Double || v instanceof Boolean;
    }

    private static boolean isInteger(Object v) {
        return v instanceof Long || v instanceof Integer || v instanceof Boolean;
    }

    static long asLong(Object v) {
        return switch (v) {
            case Long l -> l;
            case Integer i -> i;
            case Boolean b -> b ? 1 : 0;
            case Double d when d == Math.rint(d) -> d.longValue();
            default -> throw TemplateException.runtime("expected an integer, got " + typeName(v));
        };
    }

    private static Object asNumber(Object v) {
        return v instanceof Boolean b ? (b ? 1L : 0L) : v;
    }

    static String typeName(Object v) {
        return switch (v) {
            case null -> "NoneType";
            case String s -> "str";
            case Boolean b -> "bool";
            case Long l -> "int";
            case Integer i -> "int";
            case Double d -> "float";
            case List<?> l -> "list";
            case Map<?, ?> m -> "dict";
            default -> v == UNDEFINED ? "undefined" : v.getClass().getSimpleName();
        };
    }
}
