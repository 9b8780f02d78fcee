package io.emend.core.tokenizer.jinja;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static io.emend.core.tokenizer.jinja.Renderer.UNDEFINED;
import static io.emend.core.tokenizer.jinja.Renderer.str;
import static io.emend.core.tokenizer.jinja.Renderer.typeName;

/**
 * The filters, tests and methods chat templates use. Filters: {@code trim}, {@code length}/{@code count},
 * {@code upper}, {@code lower}, {@code capitalize}, {@code title}, {@code string}, {@code int}, {@code first},
 * {@code last}, {@code join}, {@code default}/{@code d}, {@code list}, {@code tojson}, {@code safe}. Tests:
 * {@code defined}, {@code undefined}, {@code none}, {@code string}, {@code number}, {@code integer}, {@code mapping},
 * {@code iterable}, {@code sequence}, {@code boolean}, {@code true}, {@code false}, {@code even}, {@code odd},
 * {@code eq}/{@code equalto}. String methods: {@code strip}, {@code lstrip}, {@code rstrip} (Python's, with optional
 * characters), {@code upper}, {@code lower}, {@code title}, {@code capitalize}, {@code startswith},
 * {@code endswith}, {@code split}, {@code replace}; dict methods: {@code get}, {@code keys}, {@code values},
 * {@code items}. Anything else fails the render with its name.
 */
final class Builtins {

    private static final ObjectMapper JSON = new ObjectMapper();

    private Builtins() {
    }

    static Object filter(String name, Object v, List<Object> args) {
        return switch (name) {
            case "trim" -> strip(str(v), args.isEmpty() ? null : str(args.get(0)), true, true);
            case "length", "count" -> (long) size(v);
            case "upper" -> str(v).toUpperCase(Locale.ROOT);
            case "lower" -> str(v).toLowerCase(Locale.ROOT);
            case "capitalize" -> capitalize(str(v));
            case "title" -> title(str(v));
            case "string", "safe" -> v instanceof String ? v : str(v);
            case "int" -> v instanceof String s ? parseLong(s) : Renderer.isNumber(v)
                    ? (long) ((Number) (v instanceof Boolean b ? (b ? 1L : 0L) : v)).doubleValue() : 0L;
            case "first" -> Renderer.iterate(v).isEmpty() ? UNDEFINED : Renderer.iterate(v).getFirst();
            case "last" -> Renderer.iterate(v).isEmpty() ? UNDEFINED : Renderer.iterate(v).getLast();
            case "join" -> {
                List<String> parts = new ArrayList<>();
                Renderer.iterate(v).forEach(x -> parts.add(str(x)));
                yield String.join(args.isEmpty() ? "" : str(args.get(0)), parts);
            }
            case "default", "d" -> {
                boolean useDefault = v == UNDEFINED || (args.size() > 1 && Renderer.truthy(args.get(1))
                        && !Renderer.truthy(v));
                yield useDefault ? (args.isEmpty() ? "" : args.get(0)) : v;
            }
            case "list" -> Renderer.iterate(v);
            case "tojson" -> toJson(v);
            default -> throw TemplateException.runtime("filter '" + name + "' is not supported");
        };
    }

    static boolean test(String name, Object v, List<Object> args) {
        return switch (name) {
            case "defined" -> v != UNDEFINED;
            case "undefined" -> v == UNDEFINED;
            case "none" -> v == null;
            case "string" -> v instanceof String;
            case "number" -> v instanceof Long || v instanceof Integer || v instanceof Double;
            case "integer" -> v instanceof Long || v instanceof Integer;
            case "boolean" -> v instanceof Boolean;
            case "true" -> Boolean.TRUE.equals(v);
            case "false" -> Boolean.FALSE.equals(v);
            case "mapping" -> v instanceof Map<?, ?>;
            case "iterable" -> v instanceof List<?> || v instanceof Map<?, ?> || v instanceof String;
            case "sequence" -> v instanceof List<?> || v instanceof String;
            case "even" -> Renderer.asLong(v) % 2 == 0;
            case "odd" -> Renderer.asLong(v) % 2 != 0;
            case "eq", "equalto", "==" -> !args.isEmpty() && Renderer.equal(v, args.get(0));
            default -> throw TemplateException.runtime("test '" + name + "' is not supported");
        };
    }

    static Object method(Object target, String name, List<Object> args) {
        if (target instanceof String s) {
            return switch (name) {
                case "strip" -> strip(s, optionalString(args), true, true);
                case "lstrip" -> strip(s, optionalString(args), true, false);
                case "rstrip" -> strip(s, optionalString(args), false, true);
                case "upper" -> s.toUpperCase(Locale.ROOT);
                case "lower" -> s.toLowerCase(Locale.ROOT);
                case "title" -> title(s);
                case "capitalize" -> capitalize(s);
                case "startswith" -> s.startsWith(str(argument(args, 0, name)));
                case "endswith" -> s.endsWith(str(argument(args, 0, name)));
                case "replace" -> s.replace(str(argument(args, 0, name)), str(argument(args, 1, name)));
                case "split" -> {
                    List<Object> parts = new ArrayList<>();
                    if (args.isEmpty() || args.get(0) == null) {
                        for (String p : s.strip().split("\\s+")) {
                            if (!p.isEmpty()) {
                                parts.add(p);
                            }
                        }
                    } else {
                        String sep = str(args.get(0));
                        int from = 0;
                        int i;
                        while ((i = s.indexOf(sep, from)) >= 0) {
                            parts.add(s.substring(from, i));
                            from = i + sep.length();
                        }
                        parts.add(s.substring(from));
                    }
                    yield parts;
                }
                default -> throw TemplateException.runtime("str has no method '" + name + "'");
            };
        }
        if (target instanceof Map<?, ?> m) {
            return switch (name) {
                case "get" -> {
                    Object key = argument(args, 0, name);
                    yield m.containsKey(key) ? m.get(key) : (args.size() > 1 ? args.get(1) : null);
                }
                case "keys" -> new ArrayList<Object>(m.keySet());
                case "values" -> new ArrayList<Object>(m.values());
                case "items" -> {
                    List<Object> items = new ArrayList<>();
                    m.forEach((k, x) -> items.add(List.of(k, x == null ? "" : x)));
                    yield items;
                }
                default -> throw TemplateException.runtime("dict has no method '" + name + "'");
            };
        }
        throw TemplateException.runtime(typeName(target) + " has no method '" + name + "'");
    }

    private static Object argument(List<Object> args, int i, String method) {
        if (args.size() <= i) {
            throw TemplateException.runtime(method + "() needs " + (i + 1) + " argument(s)");
        }
        return args.get(i);
    }

    private static String optionalString(List<Object> args) {
        return args.isEmpty() || args.get(0) == null ? null : str(args.get(0));
    }

    /** Python's strip: whitespace, or any of {@code chars}. */
    static String strip(String s, String chars, boolean left, boolean right) {
        int start = 0;
        int end = s.length();
        while (left && start < end && (chars == null ? Character.isWhitespace(s.charAt(start))
                : chars.indexOf(s.charAt(start)) >= 0)) {
            start++;
        }
        while (right && end > start && (chars == null ? Character.isWhitespace(s.charAt(end - 1))
                : chars.indexOf(s.charAt(end - 1)) >= 0)) {
            end--;
        }
        return s.substring(start, end);
    }

    private static int size(Object v) {
        return switch (v) {
            case String s -> s.codePointCount(0, s.length());
            case List<?> l -> l.size();
            case Map<?, ?> m -> m.size();
            default -> throw TemplateException.runtime("object of type '" + typeName(v) + "' has no len()");
        };
    }

    private static String capitalize(String s) {
        return s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
    }

    private static String title(String s) {
        StringBuilder sb = new StringBuilder();
        boolean start = true;
        for (char c : s.toCharArray()) {
            sb.append(start ? Character.toUpperCase(c) : Character.toLowerCase(c));
            start = !Character.isLetterOrDigit(c);
        }
        return sb.toString();
    }

    private static long parseLong(String s) {
        try {
            return Long.parseLong(s.strip());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static String toJson(Object v) {
        try {
            return JSON.writeValueAsString(v == UNDEFINED ? null : v);
        } catch (JsonProcessingException e) {
            throw TemplateException.runtime("tojson: " + e.getOriginalMessage());
        }
    }
}
