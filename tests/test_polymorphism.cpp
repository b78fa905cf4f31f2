// Pointers to a polymorphic base: saved as the registered derived class, read back as it;
// registration errors, unregistered and unrelated types, chains of bases, untyped reads
// reaching the object through its base, and files Python writes and reads.

#include <catch2/catch.hpp>

#include "round_trip.hpp"
#include "support.hpp"

#include <zanj/zanj.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

using zanj_test::from_value;
using zanj_test::to_value;
namespace fs = std::filesystem;

namespace poly_test {

struct Shape {
    virtual ~Shape() = default;
    virtual double area() const = 0;
    std::string name;
};

struct Circle : Shape {
    double r = 0;
    double area() const override { return 3 * r * r; }
};
ZANJ_DATACLASS(Circle, name, r);

struct Square : Shape {
    double side = 0;
    double area() const override { return side * side; }
};
ZANJ_DATACLASS(Square, name, side);

// A subclass of a registered subclass, registered against it alone: reachable from Shape too.
struct RoundedSquare : Square {
    double radius = 0;
};
ZANJ_DATACLASS(RoundedSquare, name, side, radius);

// Registered nowhere.
struct Triangle : Shape {
    double base = 0;
    double area() const override { return base; }
};
ZANJ_DATACLASS(Triangle, name, base);

// Another hierarchy, to register a type under the wrong base.
struct Animal {
    virtual ~Animal() = default;
    std::string name;
};
struct Dog : Animal {
    int barks = 0;
};
ZANJ_DATACLASS(Dog, name, barks);

// A concrete polymorphic base with a handler of its own.
struct Layer {
    virtual ~Layer() = default;
    int width = 0;
};
ZANJ_DATACLASS(Layer, width);
struct Dropout : Layer {
    double p = 0.5;
};
ZANJ_DATACLASS(Dropout, width, p);

struct Scene {
    std::shared_ptr<Shape> main;
    std::vector<std::unique_ptr<Shape>> owned;
    std::shared_ptr<Shape> again;
    std::shared_ptr<Circle> as_circle;
    const Shape* current = nullptr;
};
ZANJ_DATACLASS(Scene, main, owned, again, as_circle, current);

struct Model {
    std::shared_ptr<Layer> layer;
    std::shared_ptr<Layer> plain;
};
ZANJ_DATACLASS(Model, layer, plain);

} // namespace poly_test

using namespace poly_test;

// The macro, at namespace scope: registered during static initialisation.
ZANJ_REGISTER_POLYMORPHIC(Circle, Shape);

namespace {

// The explicit calls, idempotent.
void register_shapes() {
    zanj::register_polymorphic<Circle, Shape>();
    zanj::register_polymorphic<Square, Shape>();
    zanj::register_polymorphic<RoundedSquare, Square>();
    zanj::register_polymorphic<Dog, Animal>();
    zanj::register_polymorphic<Dropout, Layer>();
}

template <class T>
std::shared_ptr<T> circle(const std::string& name, double r) {
    auto c = std::make_shared<Circle>();
    c->name = name;
    c->r = r;
    return c;
}

zanj::value dataclass_item(const std::string& cls, const std::string& name, const std::string& field, double x) {
    zanj::value::dict_type item;
    item.insert_or_assign(zanj::format_key, cls + "(SerializableDataclass)");
    item.insert_or_assign("name", name);
    item.insert_or_assign(field, x);
    return item;
}

} // namespace

TEST_CASE("a pointer to a base saves the derived class's item and reads it back as that class", "[polymorphism]") {
    register_shapes();
    std::shared_ptr<Shape> s = circle<Shape>("c", 2);
    const zanj::value item = to_value(s);
    CHECK(item.format() == "Circle(SerializableDataclass)");
    CHECK(item["r"].as_double() == 2);
    CHECK(item["name"].as_string() == "c");

    const auto back = from_value<std::shared_ptr<Shape>>(item);
    const auto* c = dynamic_cast<const Circle*>(back.get());
    REQUIRE(c);
    CHECK(c->r == 2);
    CHECK(c->name == "c");
    CHECK(back->area() == 12);

    auto square = std::make_unique<Square>();
    square->side = 3;
    std::unique_ptr<Shape> u = std::move(square);
    const auto u_back = zanj_test::via_archive(u);
    REQUIRE(dynamic_cast<Square*>(u_back.get()));
    CHECK(u_back->area() == 9);
}

TEST_CASE("polymorphic objects keep their identity across pointer types", "[polymorphism]") {
    register_shapes();
    Scene scene;
    auto c = circle<Circle>("shared", 1);
    scene.main = c;
    scene.again = c;
    scene.as_circle = c;
    auto sq = std::make_unique<Square>();
    sq->side = 4;
    scene.owned.push_back(std::move(sq));
    auto rounded = std::make_unique<RoundedSquare>();
    rounded->side = 2;
    rounded->radius = 0.25;
    scene.owned.push_back(std::move(rounded));
    scene.current = scene.owned[1].get();

    const zanj::value tree = to_value(scene);
    CHECK(tree["again"]["same_as"].as_string() == "/main");
    CHECK(tree["as_circle"]["same_as"].as_string() == "/main");
    CHECK(tree["owned"][1].format() == "RoundedSquare(SerializableDataclass)");
    CHECK(tree["current"]["same_as"].as_string() == "/owned/1");

    const Scene back = zanj_test::via_archive(scene);
    REQUIRE(back.main);
    CHECK(back.main == back.again);
    CHECK(back.as_circle.get() == back.main.get()); // one Circle, reached as Shape and as Circle
    REQUIRE(back.owned.size() == 2);
    const auto* r = dynamic_cast<const RoundedSquare*>(back.owned[1].get());
    REQUIRE(r);
    CHECK(r->radius == 0.25);
    CHECK(back.current == back.owned[1].get());
}

TEST_CASE("a concrete base loads its own items and its registered subclasses'", "[polymorphism]") {
    register_shapes();
    Model m;
    auto d = std::make_shared<Dropout>();
    d->width = 8;
    d->p = 0.1;
    m.layer = d;
    m.plain = std::make_shared<Layer>();
    m.plain->width = 3;
    const zanj::value tree = to_value(m);
    CHECK(tree["plain"].format() == "Layer(SerializableDataclass)");
    CHECK(tree["layer"].format() == "Dropout(SerializableDataclass)");
    const Model back = zanj_test::via_archive(m);
    REQUIRE(dynamic_cast<const Dropout*>(back.layer.get()));
    CHECK(dynamic_cast<const Dropout*>(back.layer.get())->p == 0.1);
    const Layer& plain = *back.plain;
    CHECK(typeid(plain) == typeid(Layer));
    CHECK(back.plain->width == 3);
}

TEST_CASE("unregistered and unrelated types are clear errors", "[polymorphism][errors]") {
    register_shapes();
    // Saving: a dynamic type nobody registered, named with the path.
    Scene scene;
    auto t = std::make_shared<Triangle>();
    scene.main = t;
    CHECK_THROWS_TYPED(to_value(scene), zanj::usage_error,
                       Catch::Contains("the object's dynamic type poly_test::Triangle is not registered: a pointer "
                                       "to poly_test::Shape saves it only after "
                                       "zanj::register_polymorphic<poly_test::Triangle, poly_test::Shape>()") &&
                           Catch::Contains("(at /main)"));
    // Loading: a format key no subclass of Shape has, then one registered under another base.
    CHECK_THROWS_TYPED(from_value<std::shared_ptr<Shape>>(dataclass_item("Hexagon", "h", "side", 1)), zanj::type_error,
                       Catch::Contains("no type registered as derived from poly_test::Shape has the format key "
                                       "'Hexagon(SerializableDataclass)' (registered: poly_test::Circle, "
                                       "poly_test::RoundedSquare, poly_test::Square)"));
    CHECK_THROWS_TYPED(from_value<std::shared_ptr<Shape>>(dataclass_item("Dog", "rex", "barks", 2)), zanj::type_error,
                       Catch::Contains("the format key 'Dog(SerializableDataclass)' is registered for poly_test::Dog, "
                                       "which is not registered as derived from poly_test::Shape"));
    // An abstract base cannot load an item without a format key.
    zanj::value::dict_type bare;
    bare.insert_or_assign("name", "x");
    CHECK_THROWS_WITH(from_value<std::unique_ptr<Shape>>(zanj::value(bare)),
                      Catch::Contains("poly_test::Shape cannot be loaded itself (it is abstract or has no loader), and "
                                      "the item has no format key"));
    // A concrete base with a format key of its own refuses unrelated ones.
    CHECK_THROWS_WITH(from_value<std::shared_ptr<Layer>>(dataclass_item("Square", "s", "side", 1)),
                      Catch::Contains("is registered for poly_test::Square, which is not registered as derived from "
                                      "poly_test::Layer"));
    // One list of Layer pointers, whose second item is a Circle.
    zanj::value::dict_type layer;
    layer.insert_or_assign(zanj::format_key, "Layer(SerializableDataclass)");
    layer.insert_or_assign("width", 1);
    CHECK_THROWS_WITH(from_value<std::vector<std::shared_ptr<Layer>>>(zanj::value(
                          zanj::value::list_type{zanj::value(layer), dataclass_item("Circle", "c", "r", 1)})),
                      Catch::Contains("is registered for poly_test::Circle, which is not registered as derived from "
                                      "poly_test::Layer") &&
                          Catch::Contains("(at /1)"));
}

TEST_CASE("registration errors", "[polymorphism][errors]") {
    register_shapes();
    // Another type under a format key already taken.
    struct Impostor : Shape {
        double area() const override { return 0; }
    };
    CHECK_NOTHROW(zanj::register_polymorphic<Circle, Shape>());
    CHECK_THROWS_TYPED(
        zanj::detail::register_polymorphic_type(
            {typeid(Impostor), "Impostor", "Circle(SerializableDataclass)", true, nullptr, nullptr, nullptr, nullptr}),
        zanj::usage_error,
        Catch::Contains("the format key 'Circle(SerializableDataclass)' of Impostor is already "
                        "registered for poly_test::Circle"));
    CHECK_THROWS_WITH(zanj::detail::register_polymorphic_type({typeid(Circle), "Circle", "Other(SerializableDataclass)",
                                                               true, nullptr, nullptr, nullptr, nullptr}),
                      Catch::Contains("is registered with the format key 'Circle(SerializableDataclass)'"));
}

TEST_CASE("untyped reads reach registered objects through their base", "[polymorphism][value]") {
    register_shapes();
    Scene scene;
    scene.main = circle<Shape>("c", 2);
    scene.again = scene.main;
    zanj::ZANJ z;
    const zanj::value tree = z.read(z.save(scene, zanj_test::fresh_dir("poly_untyped") / "s"));
    // The item stays a dict, with the object attached.
    CHECK(tree["main"]["r"].as_double() == 2);
    const std::shared_ptr<const Shape> shape = tree["main"].instance_as<Shape>();
    REQUIRE(shape);
    CHECK(shape->area() == 12);
    REQUIRE(tree["main"].instance<Circle>());
    CHECK(tree["main"].instance<Circle>()->r == 2);
    CHECK(tree["main"].instance_as<Circle>().get() == tree["main"].instance<Circle>());
    // The ref item shares the object of the item it names.
    CHECK(tree["again"].format() == "zanj::object_ref");
    CHECK(tree["again"].instance_as<Shape>() == shape);
    // Not a Layer, not an Animal.
    CHECK(tree["main"].instance_as<Layer>() == nullptr);
    CHECK(tree["main"].instance_as<Animal>() == nullptr);
    // Nothing attached to plain items.
    CHECK(tree.instance_as<Shape>() == nullptr);
}

TEST_CASE("polymorphic items move both ways with Python", "[polymorphism][python]") {
    register_shapes();
    const fs::path dir = zanj_test::fresh_dir("poly_python");
    const auto written =
        zanj_test::run(zanj_test::python() + " " + zanj_test::quote(zanj_test::python_script("pointers_interop.py")) +
                       " write " + zanj_test::quote(dir));
    INFO(written.output);
    REQUIRE(written.exit_code == 0);
    zanj::ZANJ z;
    const zanj::archive a = z.open(dir / "shapes.zanj");
    // Python's dataclasses load through the base as the C++ classes of the same name.
    const auto shapes = a.read<std::vector<std::shared_ptr<Shape>>>("/shapes");
    REQUIRE(shapes.size() == 3);
    REQUIRE(dynamic_cast<const Circle*>(shapes[0].get()));
    CHECK(dynamic_cast<const Square*>(shapes[1].get())->side == 3);
    CHECK(shapes[2] == nullptr);
    // Untyped: known classes get their object, the unknown one stays a tree.
    const zanj::value tree = a.read();
    CHECK(tree["shape"].instance_as<Shape>()->name == "c");
    CHECK(tree["alias"].instance_as<Shape>() == tree["shape"].instance_as<Shape>());
    CHECK_FALSE(tree["unknown"].has_instance());
    CHECK(tree["unknown"]["side"].as_double() == 1);
    CHECK_THROWS_WITH(a.read<std::shared_ptr<Shape>>("/unknown"),
                      Catch::Contains("no type registered as derived from poly_test::Shape has the format key "
                                      "'Hexagon(SerializableDataclass)'"));

    // What Python reads from ours: the derived class's dataclass item.
    Scene scene;
    scene.main = circle<Shape>("c", 2);
    scene.again = scene.main;
    const fs::path file = z.save(scene, dir / "scene");
    const fs::path out = file.string() + ".json";
    const auto read =
        zanj_test::run(zanj_test::python() + " " + zanj_test::quote(zanj_test::python_script("pointers_interop.py")) +
                       " read " + zanj_test::quote(file) + " " + zanj_test::quote(out));
    INFO(read.output);
    REQUIRE(read.exit_code == 0);
    const nlohmann::json seen = nlohmann::json::parse(zanj_test::read_file(out));
    CHECK(seen["tree"]["main"]["__muutils_format__"] == "Circle(SerializableDataclass)");
    CHECK(seen["tree"]["main"]["r"] == 2.0);
    CHECK(seen["resolved"]["/again"] == "/main");
    CHECK(seen["targets"]["/main"]["r"] == 2.0);
}
