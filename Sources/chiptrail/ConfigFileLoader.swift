import Catalog
import Pipeline

enum ConfigFileLoader {
    static func catalog(_ path: String) throws(ConfigFile.Problem) -> InstanceCatalog {
        try ConfigFile.load(path: path).catalog
    }
}
