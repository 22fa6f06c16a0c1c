import Foundation

struct Settings {
    var tenants = 10_000
    var opens = 2_000
    var capacity = 100
    var rows = 100_000
    var batch = 500
    var rounds = 3
    var dataDirectory: String?

    static func parse(_ arguments: ArraySlice<String>) -> Settings {
        var settings = Settings()
        var arguments = arguments.makeIterator()
        while let argument = arguments.next() {
            func number() -> Int {
                guard let text = arguments.next(), let value = Int(text), value > 0 else {
                    fatalError("\(argument) needs a positive number")
                }
                return value
            }
            switch argument {
            case "--tenants": settings.tenants = number()
            case "--opens": settings.opens = number()
            case "--capacity": settings.capacity = number()
            case "--rows": settings.rows = number()
            case "--batch": settings.batch = number()
            case "--rounds": settings.rounds = number()
            case "--data-dir": settings.dataDirectory = arguments.next()
            case "--quick":
                settings.tenants = 1_000
                settings.opens = 500
                settings.rows = 20_000
                settings.rounds = 1
            default: fatalError("unknown option \(argument)")
            }
        }
        settings.opens = min(settings.opens, settings.tenants)
        return settings
    }
}

/// Sorted samples → nearest-rank percentile.
func percentile(_ sorted: [Duration], _ p: Double) -> Duration {
    sorted[min(sorted.count - 1, max(0, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1))]
}

func microseconds(_ d: Duration) -> String {
    let us = Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12
    return String(format: "%8.1f µs", us)
}

func seconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}
