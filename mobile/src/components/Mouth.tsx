import { View } from "react-native";

import { mouthShape } from "../lib/mouth";

/** A flat mouth: an oval whose height and width follow the current viseme. */
export function Mouth({ viseme, weight }: { viseme: string; weight: number }) {
  const { open, wide } = mouthShape(viseme, weight);
  return (
    <View
      testID="mouth"
      accessibilityLabel={`mouth ${viseme}`}
      style={{ height: 70, alignItems: "center", justifyContent: "center" }}
    >
      <View
        style={{
          width: 40 + 60 * wide,
          height: 4 + 50 * open,
          borderRadius: 40,
          backgroundColor: "#ff8fb1",
        }}
      />
    </View>
  );
}
