// The AWS CLI panel: asks the portal for a command scoped to one declared file.

const form = document.getElementById("cli-form");
const token = () => form.querySelector("[name=csrfmiddlewaretoken]").value;
const error = document.getElementById("cli-error");
let uploadId = null;
async function call(url, body) {
  const resp = await fetch(url, {method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-CSRFToken": token()},
    body: JSON.stringify(body)});
  const data = await resp.json().catch(() => ({message: "The portal did not answer."}));
  if (!resp.ok) throw new Error(data.message || "Something went wrong.");
  return data;
}
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const f = new FormData(form);
  try {
    const data = await call(form.dataset.url, {name: f.get("name"), size: Number(f.get("size")),
      declared_sha256: f.get("declared_sha256") || null});
    uploadId = data.upload.id;
    document.getElementById("cli-command").textContent = data.command;
    const expiry = document.getElementById("cli-expiry");
    expiry.dateTime = data.credentials.expiration;
    expiry.textContent = new Date(data.credentials.expiration).toLocaleString();
    document.getElementById("cli-result").hidden = false;
  } catch (e) { error.textContent = e.message; error.hidden = false; }
});
document.getElementById("cli-done").addEventListener("click", async () => {
  const status = document.getElementById("cli-status");
  try {
    await call(`/api/uploads/${uploadId}/complete`, {});
    status.textContent = "Received. Reload the page to see it under Completed uploads.";
  } catch (e) { status.textContent = e.message; }
});
