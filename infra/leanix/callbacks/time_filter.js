// Runs inside LeanIX before each delivery: send only Application events to the TIME function.
// The function filters again and is idempotent, so this only saves traffic.
delivery.active = false;
var fs = delivery.payload && delivery.payload.factSheet;
if (fs && fs.type === 'Application') {
  delivery.active = true;
}
