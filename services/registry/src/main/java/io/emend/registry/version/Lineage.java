package io.emend.registry.version;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;

/**
 * The part of the version graph around one version: its ancestors (parents, their parents...), its descendants, or
 * both. Edges point from parent to child and carry the role the parent plays for the child.
 */
public record Lineage(Version root, List<Version> nodes, List<Edge> edges) {

    public enum Direction { ANCESTORS, DESCENDANTS, BOTH }

    public record Edge(Version from, Version to, ParentRole role) {
    }

    /**
     * Walks the graph breadth-first from {@code root}. The graph is acyclic (a version's parents exist before it), and
     * each version is visited once, so a diamond (two children merged back) stays one node.
     */
    public static Lineage walk(Version root, Direction direction, Function<UUID, Version> byId,
            Function<UUID, List<VersionRepository.Child>> children) {
        Map<UUID, Version> nodes = new LinkedHashMap<>();
        Set<Edge> edges = new LinkedHashSet<>();
        nodes.put(root.id(), root);
        if (direction != Direction.DESCENDANTS) {
            Deque<Version> queue = new ArrayDeque<>(List.of(root));
            while (!queue.isEmpty()) {
                Version child = queue.poll();
                for (Version.Parent parentEdge : child.parents()) {
                    Version parent = nodes.computeIfAbsent(parentEdge.id(), id -> {
                        Version found = byId.apply(id);
                        queue.add(found);
                        return found;
                    });
                    edges.add(new Edge(parent, child, parentEdge.role()));
                }
            }
        }
        if (direction != Direction.ANCESTORS) {
            Set<UUID> seen = new LinkedHashSet<>(List.of(root.id()));
            Deque<Version> queue = new ArrayDeque<>(List.of(root));
            while (!queue.isEmpty()) {
                Version parent = queue.poll();
                for (VersionRepository.Child childEdge : children.apply(parent.id())) {
                    Version child = nodes.computeIfAbsent(childEdge.id(), byId);
                    if (seen.add(child.id())) {
                        queue.add(child);
                    }
                    edges.add(new Edge(parent, child, childEdge.role()));
                }
            }
        }
        Comparator<Version> byRef = Comparator.comparing(Version::model).thenComparingInt(Version::number);
        List<Version> sortedNodes = nodes.values().stream().sorted(byRef).toList();
        List<Edge> sortedEdges = new ArrayList<>(edges);
        sortedEdges.sort(Comparator.comparing(Edge::from, byRef).thenComparing(Edge::to, byRef));
        return new Lineage(root, sortedNodes, List.copyOf(sortedEdges));
    }

    /** Mermaid flowchart text: one box per version (reference, operation, state), one labelled arrow per edge. */
    public String toMermaid() {
        StringBuilder text = new StringBuilder("graph TD\n");
        Map<UUID, String> ids = new LinkedHashMap<>();
        for (Version node : nodes) {
            String id = "v" + ids.size();
            ids.put(node.id(), id);
            text.append("  ").append(id).append("[\"").append(node.ref()).append("<br/>")
                    .append(node.operation().wire()).append(", ").append(node.state().wire()).append("\"]\n");
        }
        for (Edge edge : edges) {
            text.append("  ").append(ids.get(edge.from().id())).append(" -->|").append(edge.role().wire()).append("| ")
                    .append(ids.get(edge.to().id())).append('\n');
        }
        text.append("  style ").append(ids.get(root.id())).append(" stroke-width:3px\n");
        return text.toString();
    }
}
