// std::shared_ptr, std::unique_ptr, std::weak_ptr and raw pointers: null, identity (one object
// written once, read back shared), cycles, back pointers, the ref item's on-disk form, malformed
// refs, untyped reads, and what Python sees.

#include <catch2/catch.hpp>

#include "round_trip.hpp"
#include "support.hpp"

#include <zanj/zanj.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

using zanj_test::from_value;
using zanj_test::to_value;
namespace fs = std::filesystem;

namespace pointer_test {

struct Node {
    std::string name;
    std::shared_ptr<Node> next;
};
ZANJ_DATACLASS(Node, name, next);

struct Pair {
    std::shared_ptr<Node> a;
    std::shared_ptr<Node> b;
};
ZANJ_DATACLASS(Pair, a, b);

struct Many {
    std::vector<std::shared_ptr<Node>> nodes;
    std::map<std::string, std::shared_ptr<const Node>> by_name;
    std::shared_ptr<Node> last;
};
ZANJ_DATACLASS(Many, nodes, by_name, last);

struct TreeNode {
    std::string name;
    std::weak_ptr<TreeNode> parent;
    std::vector<std::shared_ptr<TreeNode>> children;
};
ZANJ_DATACLASS(TreeNode, name, parent, children);

struct Graph {
    std::vector<std::unique_ptr<Node>> owned;
    const Node* current = nullptr;
    std::vector<Node*> path;
};
ZANJ_DATACLASS(Graph, owned, current, path);

struct Backwards {
    Node* current = nullptr;
    std::unique_ptr<Node> owner;
};
ZANJ_DATACLASS(Backwards, current, owner);

struct Mixed {
    std::unique_ptr<Node> u;
    std::shared_ptr<Node> s;
};
ZANJ_DATACLASS(Mixed, u, s);

struct Watcher {
    std::weak_ptr<Node> seen;
};
ZANJ_DATACLASS(Watcher, seen);

struct Counters {
    std::shared_ptr<std::vector<double>> x;
    std::shared_ptr<std::vector<double>> y;
    std::unique_ptr<int> single;
};
ZANJ_DATACLASS(Counters, x, y, single);

} // namespace pointer_test

using namespace pointer_test;

namespace {

zanj::value ref_to(const std::string& pointer) {
    zanj::value::dict_type ref;
    ref.insert_or_assign(zanj::format_key, "zanj::object_ref");
    ref.insert_or_assign("same_as", pointer);
    return ref;
}

zanj::value node_item(const std::string& name, zanj::value next = {}) {
    zanj::value::dict_type item;
    item.insert_or_assign(zanj::format_key, "Node(SerializableDataclass)");
    item.insert_or_assign("name", name);
    item.insert_or_assign("next", std::move(next));
    return item;
}

} // namespace

TEST_CASE("null pointers are null, as Python's None", "[pointers]") {
    CHECK(to_value(std::shared_ptr<Node>()).is_null());
    CHECK(to_value(std::unique_ptr<Node>()).is_null());
    CHECK(to_value(std::weak_ptr<Node>()).is_null());
    CHECK(to_value(static_cast<Node*>(nullptr)).is_null());
    CHECK(from_value<std::shared_ptr<Node>>(zanj::value{}) == nullptr);
    CHECK(from_value<std::unique_ptr<Node>>(zanj::value{}) == nullptr);
    CHECK(from_value<std::weak_ptr<Node>>(zanj::value{}).expired());
    CHECK(from_value<Node*>(zanj::value{}) == nullptr);
    Pair empty;
    Pair back = zanj_test::via_archive(empty);
    CHECK(back.a == nullptr);
    CHECK(back.b == nullptr);
}

TEST_CASE("an object two shared_ptr reach is written once and read back as one object", "[pointers]") {
    Pair p;
    p.a = std::make_shared<Node>(Node{"shared", std::make_shared<Node>(Node{"tail", nullptr})});
    p.b = p.a;
    const zanj::value tree = to_value(p);
    CHECK(tree["a"]["name"].as_string() == "shared");
    CHECK(tree["b"].dump() == R"({"__muutils_format__": "zanj::object_ref", "same_as": "/a"})");

    for (const Pair& back : {from_value<Pair>(tree), zanj_test::via_archive(p)}) {
        REQUIRE(back.a);
        CHECK(back.a == back.b);
        CHECK(back.a->name == "shared");
        REQUIRE(back.a->next);
        CHECK(back.a->next->name == "tail");
        CHECK(back.a.use_count() == 2);
    }
    // Distinct objects with equal values stay distinct.
    Pair twins{std::make_shared<Node>(Node{"x", nullptr}), std::make_shared<Node>(Node{"x", nullptr})};
    CHECK(to_value(twins)["b"]["name"].as_string() == "x");
    Pair twins_back = zanj_test::via_archive(twins);
    CHECK(twins_back.a != twins_back.b);
}

TEST_CASE("sharing survives lists, maps, const pointees and .jsonl members", "[pointers]") {
    Many m;
    for (int i = 0; i < 5; ++i) m.nodes.push_back(std::make_shared<Node>(Node{"n" + std::to_string(i), nullptr}));
    m.nodes[4]->next = m.nodes[1];
    m.by_name["first"] = m.nodes[0];
    m.by_name["second"] = m.nodes[1];
    m.last = m.nodes[4];

    zanj::config small;
    small.external_list_threshold = 3; // the node list becomes a .jsonl member
    for (const auto& cfg : {zanj::config{}, small}) {
        zanj::ZANJ z(cfg);
        const auto file = z.save(m, zanj_test::fresh_dir("pointers_many") / "m");
        const Many back = z.read<Many>(file);
        REQUIRE(back.nodes.size() == 5);
        CHECK(back.nodes[4]->next == back.nodes[1]);
        CHECK(back.by_name.at("first") == back.nodes[0]);
        CHECK(back.by_name.at("second") == back.nodes[1]);
        CHECK(back.last == back.nodes[4]);
        CHECK(back.nodes[3]->name == "n3");
        // The untyped tree keeps the refs as Python sees them.
        const zanj::value tree = z.read(file);
        CHECK(tree["nodes"][4]["next"]["same_as"].as_string() == "/nodes/1");
        CHECK(tree["by_name"]["first"]["same_as"].as_string() == "/nodes/0");
        CHECK(tree["last"].format() == "zanj::object_ref");
    }
}

TEST_CASE("shared_ptr to standard types and unique_ptr to scalars", "[pointers]") {
    Counters c;
    c.x = std::make_shared<std::vector<double>>(std::vector<double>{1.5, 2.5});
    c.y = c.x;
    c.single = std::make_unique<int>(7);
    const Counters back = zanj_test::via_archive(c);
    REQUIRE(back.x);
    CHECK(back.x == back.y);
    CHECK(*back.x == std::vector<double>{1.5, 2.5});
    REQUIRE(back.single);
    CHECK(*back.single == 7);
}

TEST_CASE("a cycle through shared_ptr is an error naming its path", "[pointers][errors]") {
    Pair p;
    p.a = std::make_shared<Node>(Node{"a", std::make_shared<Node>(Node{"b", nullptr})});
    p.a->next->next = p.a;
    zanj::ZANJ z;
    CHECK_THROWS_TYPED(z.save(p, zanj_test::fresh_dir("pointers_cycle") / "c"), zanj::usage_error,
                       Catch::Contains("a cycle through shared_ptr: /a/next/next is /a again"));
    // A node pointing to itself, at the root.
    auto self = std::make_shared<Node>(Node{"self", nullptr});
    self->next = self;
    CHECK_THROWS_WITH(to_value(self), Catch::Contains("/next is / again"));
    p.a->next->next = nullptr; // break the cycle so the nodes are freed
    self->next = nullptr;
    // Under error_mode warn the cycle becomes a note, and the save goes on.
    auto again = std::make_shared<Node>(Node{"again", nullptr});
    again->next = again;
    zanj::config warn;
    warn.error_mode = zanj::error_mode::warn;
    std::vector<std::string> warnings;
    warn.warning_sink = [&](std::string_view w) { warnings.emplace_back(w); };
    const zanj::value tree = to_value(again, warn);
    CHECK(tree["next"].as_string().find("cycle") != std::string::npos);
    CHECK(warnings.size() == 1);
    again->next = nullptr;
}

TEST_CASE("weak_ptr saves a ref to its target and is restored, parents included", "[pointers]") {
    auto root = std::make_shared<TreeNode>();
    root->name = "root";
    for (const char* name : {"left", "right"}) {
        auto child = std::make_shared<TreeNode>();
        child->name = name;
        child->parent = root;
        root->children.push_back(child);
    }
    const zanj::value tree = to_value(root);
    CHECK(tree["parent"].is_null());
    CHECK(tree["children"][1]["parent"].dump() == R"({"__muutils_format__": "zanj::object_ref", "same_as": ""})");

    zanj::ZANJ z;
    const auto file = z.save(root, zanj_test::fresh_dir("pointers_weak") / "tree");
    const auto back = z.read<std::shared_ptr<TreeNode>>(file);
    REQUIRE(back);
    REQUIRE(back->children.size() == 2);
    CHECK(back->children[0]->parent.lock() == back);
    CHECK(back->children[1]->parent.lock() == back);
    CHECK(back->children[1]->name == "right");
    for (auto& child : back->children) child->parent.reset();

    // Expired: null. A live target the save never reached: an error, not a silent null.
    Watcher w;
    CHECK(to_value(w)["seen"].is_null());
    {
        auto gone = std::make_shared<Node>();
        w.seen = gone;
    }
    CHECK(to_value(w)["seen"].is_null());
    auto alive = std::make_shared<Node>();
    w.seen = alive;
    CHECK_THROWS_TYPED(to_value(w), zanj::usage_error,
                       Catch::Contains("the weak_ptr points to a pointer_test::Node that no "
                                       "shared_ptr or unique_ptr saved before it") &&
                           Catch::Contains("(at /seen)"));
}

TEST_CASE("unique_ptr owns, raw pointers point into what it owns", "[pointers]") {
    Graph g;
    for (const char* name : {"a", "b", "c"}) g.owned.push_back(std::make_unique<Node>(Node{name, nullptr}));
    g.current = g.owned[1].get();
    g.path = {g.owned[2].get(), nullptr, g.owned[0].get()};
    const zanj::value tree = to_value(g);
    CHECK(tree["current"]["same_as"].as_string() == "/owned/1");
    CHECK(tree["path"][1].is_null());

    const Graph back = zanj_test::via_archive(g);
    REQUIRE(back.owned.size() == 3);
    CHECK(back.current == back.owned[1].get());
    CHECK(back.path == std::vector<Node*>{back.owned[2].get(), nullptr, back.owned[0].get()});
    // The objects are on the heap: moving the result keeps the pointers valid.
    Graph moved = from_value<Graph>(tree);
    const Node* target = moved.owned[1].get();
    Graph elsewhere = std::move(moved);
    CHECK(elsewhere.current == target);
    CHECK(elsewhere.current->name == "b");
}

TEST_CASE("raw pointers and unique_ptr: the errors", "[pointers][errors]") {
    // A raw pointer saved before its owner.
    Backwards b;
    b.owner = std::make_unique<Node>(Node{"o", nullptr});
    b.current = b.owner.get();
    CHECK_THROWS_TYPED(to_value(b), zanj::usage_error,
                       Catch::Contains("the raw pointer points to a pointer_test::Node that "
                                       "no shared_ptr or unique_ptr saved before it") &&
                           Catch::Contains("(at /current)"));
    // A raw pointer to an object no pointer owns.
    Node plain{"plain", nullptr};
    Graph g;
    g.current = &plain;
    CHECK_THROWS_WITH(to_value(g), Catch::Contains("(at /current)"));
    // A unique_ptr's object reached a second time.
    Node* shared_twice = new Node{"twice", nullptr};
    std::vector<std::unique_ptr<Node>> owners;
    owners.emplace_back(shared_twice);
    owners.emplace_back(std::make_unique<Node>(Node{"other", nullptr}));
    owners[1]->next = std::shared_ptr<Node>(shared_twice, [](Node*) {}); // an alias that owns nothing
    CHECK_THROWS_WITH(to_value(owners), Catch::Contains("a unique_ptr's object cannot have a second owner") &&
                                            Catch::Contains("already saved at /0"));
    owners[1]->next.reset();

    // Reading: a raw pointer's ref must name an object an owning pointer loaded before it.
    zanj::value::dict_type bad;
    bad.insert_or_assign(zanj::format_key, "Backwards(SerializableDataclass)");
    bad.insert_or_assign("current", ref_to("/owner"));
    bad.insert_or_assign("owner", node_item("o"));
    CHECK_THROWS_TYPED(from_value<Backwards>(zanj::value(bad)), zanj::type_error,
                       Catch::Contains("the raw pointer's ref names /owner, which no "
                                       "shared_ptr or unique_ptr loaded before it") &&
                           Catch::Contains("(at /current)"));
    // A raw pointer item that is not a ref.
    CHECK_THROWS_WITH(from_value<Node*>(node_item("x")),
                      Catch::Contains("a raw pointer loads from null or a ref item"));
    // A unique_ptr cannot load a ref.
    zanj::value two = zanj::value::list();
    two.as_list().push_back(node_item("a"));
    two.as_list().push_back(ref_to("/0"));
    CHECK_THROWS_WITH(from_value<std::vector<std::unique_ptr<Node>>>(two),
                      Catch::Contains("a unique_ptr cannot load a ref item (it names /0)") &&
                          Catch::Contains("(at /1)"));
    // A shared_ptr cannot share what a unique_ptr owns.
    zanj::value::dict_type mixed;
    mixed.insert_or_assign(zanj::format_key, "Mixed(SerializableDataclass)");
    mixed.insert_or_assign("u", node_item("u"));
    mixed.insert_or_assign("s", ref_to("/u"));
    CHECK_THROWS_WITH(from_value<Mixed>(zanj::value(mixed)),
                      Catch::Contains("the ref names /u, which a unique_ptr owns: a shared_ptr cannot share it") &&
                          Catch::Contains("(at /s)"));
}

TEST_CASE("malformed ref items are clear errors", "[pointers][errors]") {
    using Nodes = std::vector<std::shared_ptr<Node>>;
    auto list = [](std::vector<zanj::value> items) { return zanj::value(zanj::value::list_type(std::move(items))); };

    // Missing or non-string "same_as", not a JSON pointer.
    zanj::value::dict_type no_target;
    no_target.insert_or_assign(zanj::format_key, "zanj::object_ref");
    CHECK_THROWS_WITH(from_value<Nodes>(list({node_item("a"), zanj::value(no_target)})),
                      Catch::Contains("malformed ref item: it needs a \"same_as\" string") &&
                          Catch::Contains("(at /1)"));
    CHECK_THROWS_WITH(from_value<Nodes>(list({node_item("a"), ref_to("0")})),
                      Catch::Contains("\"0\" is not a JSON pointer"));
    CHECK_THROWS_WITH(from_value<Nodes>(list({node_item("a"), ref_to("/a~2")})),
                      Catch::Contains("is not a JSON pointer"));
    // A target that is not there.
    CHECK_THROWS_TYPED(from_value<Nodes>(list({node_item("a"), ref_to("/7")})), zanj::type_error,
                       Catch::Contains("the ref names \"/7\", which is not in the file "
                                       "(nothing at '7' in /)") &&
                           Catch::Contains("(at /1)"));
    CHECK_THROWS_WITH(from_value<Nodes>(list({node_item("a"), ref_to("/0/missing/x")})),
                      Catch::Contains("nothing at 'missing' in /0"));
    // A target of the wrong type.
    CHECK_THROWS_TYPED(from_value<Nodes>(list({node_item("a"), ref_to("/0/name")})), zanj::type_error,
                       Catch::Contains("the ref at /1 names /0/name, which does not load as "
                                       "a pointer_test::Node") &&
                           Catch::Contains("(at /0/name)"));
    // A ref naming a ref.
    CHECK_THROWS_WITH(from_value<Nodes>(list({node_item("a"), ref_to("/0"), ref_to("/1")})),
                      Catch::Contains("which is itself a ref item"));
    // A shared_ptr cycle written into a file.
    CHECK_THROWS_WITH(from_value<std::shared_ptr<Node>>(node_item("loop", ref_to(""))),
                      Catch::Contains("the ref names /, an object that holds this shared_ptr: a cycle of shared_ptr") &&
                          Catch::Contains("(at /next)"));
    // A weak_ptr whose item is not a ref.
    CHECK_THROWS_WITH(from_value<std::weak_ptr<Node>>(node_item("w")),
                      Catch::Contains("a weak_ptr loads from null or a ref item"));

    // A ref pointing forward is followed for shared_ptr (the target is loaded first).
    const Nodes forward = from_value<Nodes>(list({ref_to("/1"), node_item("b")}));
    REQUIRE(forward.size() == 2);
    CHECK(forward[0] == forward[1]);
    CHECK(forward[0]->name == "b");
}

TEST_CASE("refs outside the item being read are errors; the whole archive reads them", "[pointers][errors]") {
    Pair p;
    p.a = std::make_shared<Node>(Node{"shared", nullptr});
    p.b = p.a;
    zanj::ZANJ z;
    const auto file = z.save(p, zanj_test::fresh_dir("pointers_outside") / "p");
    const zanj::archive a = z.open(file);
    CHECK(a.read<std::shared_ptr<Node>>("/a")->name == "shared");
    CHECK_THROWS_TYPED(a.read<std::shared_ptr<Node>>("/b"), zanj::type_error,
                       Catch::Contains("the ref names \"/a\", outside the item being read "
                                       "(/b): read an item that holds both"));
    const Pair whole = a.read<Pair>();
    CHECK(whole.a == whole.b);
}

TEST_CASE("untyped reads keep ref items; value::get restores the sharing", "[pointers][value]") {
    Pair p;
    p.a = std::make_shared<Node>(Node{"shared", nullptr});
    p.b = p.a;
    zanj::ZANJ z;
    const zanj::value tree = z.read(z.save(p, zanj_test::fresh_dir("pointers_untyped") / "p"));
    CHECK(tree["b"].format() == "zanj::object_ref");
    CHECK(tree["b"]["same_as"].as_string() == "/a");
    const Pair back = tree.get<Pair>();
    CHECK(back.a == back.b);
    // JSON Pointer escaping of keys holding '/' and '~'.
    std::map<std::string, std::shared_ptr<Node>> odd;
    odd["a/b"] = std::make_shared<Node>(Node{"slash", nullptr});
    odd["c~d"] = odd["a/b"];
    const zanj::value odd_tree = to_value(odd);
    CHECK(odd_tree["c~d"]["same_as"].as_string() == "/a~1b");
    const auto odd_back = from_value<std::map<std::string, std::shared_ptr<Node>>>(odd_tree);
    CHECK(odd_back.at("a/b") == odd_back.at("c~d"));
}

TEST_CASE("Python reads shared objects as plain dicts and follows their refs", "[pointers][python]") {
    Many m;
    for (int i = 0; i < 3; ++i) m.nodes.push_back(std::make_shared<Node>(Node{"n" + std::to_string(i), nullptr}));
    m.nodes[2]->next = m.nodes[0];
    m.by_name["zero"] = m.nodes[0];
    m.last = m.nodes[2];
    zanj::config cfg;
    cfg.external_list_threshold = 2;
    zanj::ZANJ z(cfg);
    const auto file = z.save(m, zanj_test::fresh_dir("pointers_python") / "m");
    const fs::path out = file.string() + ".json";
    const auto result =
        zanj_test::run(zanj_test::python() + " " + zanj_test::quote(zanj_test::python_script("pointers_interop.py")) +
                       " read " + zanj_test::quote(file) + " " + zanj_test::quote(out));
    INFO(result.output);
    REQUIRE(result.exit_code == 0);
    const nlohmann::json seen = nlohmann::json::parse(zanj_test::read_file(out));
    // The refs as Python's loader leaves them: dicts with their format key.
    CHECK(seen["tree"]["last"] ==
          nlohmann::json::parse(R"({"__muutils_format__": "zanj::object_ref", "same_as": "/nodes/2"})"));
    // Following them by JSON Pointer (one line of Python) reaches the first occurrence.
    CHECK(seen["resolved"]["/last"] == "/nodes/2");
    CHECK(seen["resolved"]["/nodes/2/next"] == "/nodes/0");
    CHECK(seen["resolved"]["/by_name/zero"] == "/nodes/0");
    CHECK(seen["targets"]["/nodes/0"]["name"] == "n0");
}

TEST_CASE("a file with refs written by Python loads shared", "[pointers][python]") {
    const fs::path dir = zanj_test::fresh_dir("pointers_from_python");
    const auto result =
        zanj_test::run(zanj_test::python() + " " + zanj_test::quote(zanj_test::python_script("pointers_interop.py")) +
                       " write " + zanj_test::quote(dir));
    INFO(result.output);
    REQUIRE(result.exit_code == 0);
    zanj::ZANJ z;
    const Many back = z.read<Many>(dir / "pointers.zanj");
    REQUIRE(back.nodes.size() == 300);
    CHECK(back.nodes[299]->next == back.nodes[0]);
    CHECK(back.last == back.nodes[7]);
    CHECK(back.by_name.at("first") == back.nodes[0]);
    CHECK(back.by_name.at("none") == nullptr);
}
