// Saving a type you cannot modify: a third-party class with private state, no default
// constructor and its own invariants. A zanj::handler specialisation says how it is written
// and how it is rebuilt; nothing in the class changes.

#include <zanj/zanj.hpp>

#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

// --- pretend this comes from a library header you do not own ---------------------------------
namespace thirdparty {
class Interval {
public:
    Interval(double lo, double hi, std::string unit) : lo_(lo), hi_(hi), unit_(std::move(unit)) {
        if (hi < lo) throw std::invalid_argument("Interval: hi < lo");
    }
    double lo() const { return lo_; }
    double hi() const { return hi_; }
    const std::string& unit() const { return unit_; }
    bool operator==(const Interval&) const = default;

private:
    double lo_, hi_;
    std::string unit_;
};
} // namespace thirdparty

// --- the handler: written as a typed item, so Python sees {"__muutils_format__": "Interval", ...}
template <>
struct zanj::handler<thirdparty::Interval> {
    static std::string format_key() { return "Interval"; }

    static zanj::value serialize(const thirdparty::Interval& i, zanj::serializer& s) {
        zanj::value::dict_type d;
        d.insert_or_assign(zanj::format_key, format_key());
        d.insert_or_assign("lo", s.serialize_field("lo", i.lo()));
        d.insert_or_assign("hi", s.serialize_field("hi", i.hi()));
        d.insert_or_assign("unit", s.serialize_field("unit", i.unit()));
        return d;
    }

    static thirdparty::Interval load(const zanj::value& v, zanj::loader& l) {
        double lo = l.load_field<double>(v, "lo");
        double hi = l.load_field<double>(v, "hi");
        if (hi < lo) l.fail("an Interval needs lo <= hi"); // bad files get a clear error with the path
        return thirdparty::Interval(lo, hi, l.load_field<std::string>(v, "unit"));
    }
};

struct Measurement {
    std::string sensor;
    std::vector<thirdparty::Interval> ranges; // the handler composes with every container
};
ZANJ_DATACLASS(Measurement, sensor, ranges);

int main() {
    Measurement m{"thermo-7", {{-20.0, 45.5, "degC"}, {0.0, 1.0, "V"}}};

    zanj::ZANJ z;
    z.register_type<thirdparty::Interval>(); // untyped reads rebuild "Interval" items too
    auto path = z.save(m, "custom-handler-out/measurement");

    Measurement back = z.read<Measurement>(path);
    std::cout << "sensor " << back.sensor << ", " << back.ranges.size() << " ranges, first [" << back.ranges[0].lo()
              << ", " << back.ranges[0].hi() << "] " << back.ranges[0].unit() << "\n";

    zanj::value tree = z.read(path);
    const auto* rebuilt = tree["ranges"][1].instance<thirdparty::Interval>();
    std::cout << "untyped read rebuilt an Interval: " << (rebuilt ? "yes" : "no") << "\n";

    bool ok = back.sensor == m.sensor && back.ranges == m.ranges && rebuilt && *rebuilt == m.ranges[1];
    std::cout << (ok ? "round trip: identical\n" : "round trip: DIFFERENT\n");
    return ok ? 0 : 1;
}
